/**
 * A closed loop has users; an open loop has a rate. A setting or factor of the
 * other mode used to be ignored without a word (`rate: 5` in a closed loop ran
 * with users alone), so each is refused where it is written.
 */
import type { Assignment } from "./experiment.ts";
import type { MatrixFile } from "./matrix-file.ts";
import type { Fail, PathKey } from "./problem.ts";
import type { LoadConfig } from "./schema.ts";

type Mode = LoadConfig["mode"];

/** `load` settings that only one mode reads (LoadSchema documents each). */
const MODE_SETTINGS: Record<Mode, readonly string[]> = {
  closed: ["users", "spawn_rate", "think_time", "turns"],
  open: ["rate", "arrival", "burstiness", "max_concurrency"],
};
/** Factors that only one mode reads. */
const MODE_FACTORS: Record<Mode, readonly string[]> = {
  closed: ["users"],
  open: ["rate", "burstiness"],
};

const other = (mode: Mode): Mode => (mode === "closed" ? "open" : "closed");
const aLoop = (mode: Mode) => (mode === "closed" ? "a closed-loop" : "an open-loop");
const varies = (mode: Mode) => (mode === "closed" ? "users" : "rate");

/** `load.rate` with `mode: closed`, `load.users` with `mode: open`, … */
export function checkLoadMode(file: MatrixFile, fail: Fail): void {
  const mode = file.matrix.load.mode;
  const written = (file.raw.load ?? {}) as Record<string, unknown>;
  for (const key of MODE_SETTINGS[other(mode)]) {
    if (written[key] === undefined) continue;
    fail({
      message: `\`${key}\` is ${aLoop(other(mode))} setting but load.mode is ${mode}, so it would be ignored`,
      path: ["load", key],
      hint: `remove it, or set load.mode: ${other(mode)}`,
    });
  }
}

/** A factor of the other mode, in `factors` or an include rule (`where`). */
export function checkModeFactors(mode: Mode, f: Assignment, where: PathKey[], fail: Fail): void {
  for (const name of MODE_FACTORS[other(mode)]) {
    if (f[name as keyof Assignment] === undefined) continue;
    fail({
      message: `\`${name}\` is ${aLoop(other(mode))} factor but load.mode is ${mode}`,
      path: [...where, name],
      hint: `set load.mode: ${other(mode)}, or vary ${varies(mode)}`,
    });
  }
}
