/**
 * What a (re-)run does with each experiment: status.json marks a finished
 * one. `ok` is skipped unless --force; `failed` is kept unless --retry-failed;
 * `interrupted` and missing ones always run. A finished one whose fingerprint
 * (experiment.json) differs from the plan's runs again, saying what changed.
 * --only narrows by id glob.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Experiment } from "../config/expand.ts";
import {
  experimentDir,
  type Fingerprint,
  FingerprintSchema,
  RAW_FILES,
  type Status,
  StatusSchema,
} from "../formats/raw-layout.ts";
import { fingerprintChanges } from "./fingerprint.ts";

export interface SelectOptions {
  resultsDir: string;
  campaign: string;
  force?: boolean;
  retryFailed?: boolean;
  /** Glob(s) over experiment ids (`*`, `?`); comma-separated alternatives allowed. */
  only?: string[];
  /** The plan's fingerprints (fingerprintPlan); without them finished results are trusted as is. */
  fingerprints?: Map<string, Fingerprint>;
}

export type Decision =
  | { action: "run"; why: "new" | "interrupted" | "retry" | "forced" | "unreadable" }
  | { action: "run"; why: "changed"; changes: string[] }
  | { action: "skip"; why: "ok" | "failed" | "filtered"; status?: Status };

export async function readStatus(dir: string): Promise<Status | "missing" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(join(dir, RAW_FILES.status), "utf8");
  } catch {
    return "missing";
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "unreadable";
  }
  const parsed = StatusSchema.safeParse(value);
  return parsed.success ? parsed.data : "unreadable";
}

/** The fingerprint experiment.json recorded, if it holds a readable one. */
export async function readFingerprint(dir: string): Promise<Fingerprint | undefined> {
  try {
    const info = JSON.parse(await readFile(join(dir, RAW_FILES.experiment), "utf8")) as {
      fingerprint?: unknown;
    };
    const parsed = FingerprintSchema.safeParse(info.fingerprint);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** One line per experiment that re-runs because its inputs changed: `id: server args changed`. */
export function describeChanges(decisions: Map<string, Decision>): string[] {
  const lines: string[] = [];
  for (const [id, d] of decisions) {
    if (d.action === "run" && d.why === "changed") lines.push(`${id}: ${d.changes.join(", ")}`);
  }
  return lines;
}

/** `g1-*-short-*` → a RegExp over the whole id. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}

export function matchesAny(id: string, globs: string[] | undefined): boolean {
  const patterns = (globs ?? []).flatMap((g) => g.split(",")).filter((g) => g.trim() !== "");
  if (patterns.length === 0) return true;
  return patterns.some((g) => globToRegExp(g.trim()).test(id));
}

export async function decide(experiment: Experiment, options: SelectOptions): Promise<Decision> {
  if (!matchesAny(experiment.id, options.only)) return { action: "skip", why: "filtered" };
  const status = await readStatus(
    experimentDir(options.resultsDir, options.campaign, experiment.id),
  );
  if (options.force) return { action: "run", why: "forced" };
  if (status === "missing") return { action: "run", why: "new" };
  if (status === "unreadable") return { action: "run", why: "unreadable" };
  const current = options.fingerprints?.get(experiment.id);
  if (current) {
    const dir = experimentDir(options.resultsDir, options.campaign, experiment.id);
    const changes = fingerprintChanges(await readFingerprint(dir), current);
    if (changes.length > 0) return { action: "run", why: "changed", changes };
  }
  if (status.status === "ok") return { action: "skip", why: "ok", status };
  if (status.status === "failed") {
    return options.retryFailed
      ? { action: "run", why: "retry" }
      : { action: "skip", why: "failed", status };
  }
  return { action: "run", why: "interrupted" };
}

export async function decideAll(
  experiments: Experiment[],
  options: SelectOptions,
): Promise<Map<string, Decision>> {
  const out = new Map<string, Decision>();
  for (const e of experiments) out.set(e.id, await decide(e, options));
  return out;
}
