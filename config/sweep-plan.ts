/**
 * What a sweep step runs (config/sweep.ts) and the checks a sweep matrix
 * must pass before anything starts.
 */
import type { MatrixFile } from "./matrix-file.ts";
import type { Fail } from "./problem.ts";
import type { LoadConfig } from "./schema.ts";
import { SWEEP_SYNC_STEP, SWEEP_THROUGHPUT_STEP } from "./sweep.ts";

/**
 * The load of one step. Rate steps keep `rate` unset: the runner sets it
 * from the synchronous and throughput steps' results.
 */
export function sweepStepLoad(load: LoadConfig, step: number): LoadConfig {
  const sweep = load.sweep;
  if (!sweep) return load;
  if (step === SWEEP_SYNC_STEP) return { ...load, mode: "closed", users: 1, think_time: 0 };
  if (step === SWEEP_THROUGHPUT_STEP)
    return { ...load, mode: "closed", users: sweep.max_users, think_time: 0 };
  const { users: _users, ...rest } = load;
  return { ...rest, mode: "open", arrival: sweep.arrival, rate: undefined };
}

export function checkSweep(file: MatrixFile, fail: Fail): void {
  const m = file.matrix;
  if (!m.load.sweep) {
    if ((m.factors as Record<string, unknown>).sweep_step !== undefined) {
      fail({
        message: "sweep_step is set by load.sweep, not by hand",
        path: ["factors", "sweep_step"],
        hint: "add load.sweep: {rates: K}",
      });
    }
    return;
  }
  if (m.load.mode !== "open") {
    fail({
      message: "a sweep offers rates, so it needs load.mode: open",
      path: ["load", "mode"],
      hint: "set load.mode: open (its synchronous and throughput steps run closed by themselves)",
    });
  }
  for (const name of ["rate", "users", "sweep_step"]) {
    const written = (m.factors as Record<string, unknown>)[name] !== undefined;
    const inLoad =
      name !== "sweep_step" && (file.raw.load as Record<string, unknown>)?.[name] !== undefined;
    if (written || inLoad) {
      fail({
        message: `\`${name}\` is chosen by the sweep, so it cannot be set as well`,
        path: written ? ["factors", name] : ["load", name],
        hint: "remove it, or remove load.sweep",
      });
    }
  }
}
