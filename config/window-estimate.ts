/**
 * Will an experiment's window hold enough requests for its latency
 * statistics (stats/sample-rule.ts)? Found at plan time where the matrix
 * alone says how many requests the window sends: an open loop sends
 * rate × duration on average. A closed loop's count depends on how long the
 * server takes per request, which only the run measures; there the console
 * and `latency_flags` say it afterwards.
 */

import { MIN_REQUESTS, minValuesFor } from "../stats/sample-rule.ts";
import type { LoadConfig } from "./schema.ts";

/** Requests the window is expected to send, or null when the plan cannot tell. */
export function expectedWindowRequests(
  load: Pick<LoadConfig, "mode" | "rate" | "duration">,
): number | null {
  if (load.mode !== "open" || typeof load.rate !== "number") return null;
  return (load.rate * load.duration) / 1000;
}

/** Why the window is too short for its latency statistics, or null when it is not (or unknown). */
export function shortWindowNote(
  load: Pick<LoadConfig, "mode" | "rate" | "duration">,
): string | null {
  const n = expectedWindowRequests(load);
  if (n === null) return null;
  const p99 = minValuesFor(0.99);
  const about = `about ${Math.round(n)} requests in its window (rate ${load.rate}/s × ${load.duration / 1000} s)`;
  if (n < MIN_REQUESTS)
    return `${about} < ${MIN_REQUESTS}: no latency statistic will be printed; lengthen load.duration`;
  if (n < p99) return `${about} < ${p99}: no p99 will be printed`;
  return null;
}
