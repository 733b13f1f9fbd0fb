/**
 * Experiment and group ids: readable, stable and filesystem-safe, built from
 * the factors' id codes in the factors table's order (never YAML key order),
 * so editing unrelated parts of a matrix never renames an experiment.
 */
import { hashString } from "../stats/hash.ts";
import type { Experiment } from "./experiment.ts";
import { FACTOR_NAMES, ID_CODES } from "./factors.ts";
import { hasServerFlag } from "./server-command.ts";

function safeId(parts: string[]): string {
  return parts.join("-").replace(/[^A-Za-z0-9._-]/g, "_");
}

/** `g4-tp4` (+ `dp2` when data-parallel), then the codes of the chosen factors. */
function idParts(f: Experiment["factors"], keep: (name: (typeof FACTOR_NAMES)[number]) => boolean) {
  const parts = [ID_CODES.gpus(f.gpus), ID_CODES.tp(f.tp)];
  if (f.dp !== 1) parts.push(ID_CODES.dp(f.dp));
  for (const name of FACTOR_NAMES) {
    if (name === "gpus" || name === "tp" || name === "dp" || !keep(name)) continue;
    const v = f[name];
    if (v !== undefined) parts.push(ID_CODES[name](v));
  }
  return parts;
}

export function experimentId(f: Experiment["factors"], repeat: number): string {
  return safeId([...idParts(f, () => true), `r${repeat}`]);
}

/** The server factors only: experiments differing in load share a group. */
export function groupId(f: Experiment["factors"]): string {
  return safeId(idParts(f, hasServerFlag));
}

/** A per-experiment seed that depends only on the matrix seed and the id (stable across edits). */
export function experimentSeed(id: string, matrixSeed: number): number {
  return (hashString(id) ^ matrixSeed) >>> 0;
}

/** Disambiguates two groups whose factor codes agree but whose argv or env differ. */
export function groupIdSuffix(key: string): string {
  return hashString(key).toString(16).slice(0, 6);
}
