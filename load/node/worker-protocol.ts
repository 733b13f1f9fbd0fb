/** Messages between `vscale load`'s main thread (workers.ts) and each load worker (worker-main.ts). */

import type { Share } from "../workload/share.ts";
import type { LiveCounters } from "./live-counters.ts";
import type { LoadResult, LoadRunOptions } from "./run.ts";

/** The options a worker can receive (no callbacks, signals or sinks cross threads). */
export type WorkerOptions = Omit<LoadRunOptions, "onProgress" | "signal" | "sink" | "share">;

export interface WorkerInput {
  options: WorkerOptions;
  share: Share;
}

export type ToWorker = { type: "go"; startAtEpochMs: number } | { type: "stop" };

export type FromWorker =
  | { type: "ready" }
  /** NDJSON lines, each ending in a newline: serialised in the worker, appended by the parent. */
  | { type: "lines"; text: string; lines: number }
  | { type: "progress"; counters: LiveCounters }
  | { type: "done"; result: LoadResult }
  | { type: "error"; message: string };
