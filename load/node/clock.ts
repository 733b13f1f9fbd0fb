/**
 * One clock for the Node engine: `performance.now()` is monotonic with
 * sub-millisecond resolution (durations never jump with NTP), and
 * `timeOrigin + now()` gives the wall-clock epoch time records carry.
 */
import { performance } from "node:perf_hooks";

export const nowMs = (): number => performance.now();

/** Monotonic ms → µs since the Unix epoch. */
export function epochUs(monotonicMs: number): number {
  return Math.round((performance.timeOrigin + monotonicMs) * 1000);
}

/** Epoch ms → this thread's monotonic ms (each worker thread has its own time origin). */
export function monotonicFromEpochMs(epochMs: number): number {
  return epochMs - performance.timeOrigin;
}
