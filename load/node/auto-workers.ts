/**
 * `load.workers: auto`: one worker per core the target leaves free. A server
 * started on this machine needs cores of its own, or the client and the
 * server starve each other and the measurement is of neither: the simulator
 * is one Node process (its scheduler and HTTP share one event loop), so one
 * core; a local vLLM runs an API server process plus one busy-polling
 * EngineCore process per data-parallel rank (vllm/v1/engine/core.py), so
 * 1 + dp; an external server runs elsewhere and needs none of ours.
 */
import { availableParallelism } from "node:os";
import type { LoadSchedule } from "../workload/arrivals.ts";
import { scenarioOf } from "../workload/scenarios.ts";

export type WorkersSetting = "auto" | number;

export function targetCores(kind: "sim" | "vllm" | "external", dp: number): number {
  if (kind === "sim") return 1;
  if (kind === "vllm") return 1 + Math.max(1, dp);
  return 0;
}

export function resolveWorkers(
  setting: WorkersSetting,
  opts: { schedule: LoadSchedule; targetCores: number; cores?: number },
): number {
  // prefill-only runs on one worker (workers.ts says why); config/scenario-check.ts refuses more.
  if (scenarioOf(opts.schedule) === "prefill-only") return 1;
  if (setting !== "auto") return setting;
  const free = Math.max(1, (opts.cores ?? availableParallelism()) - opts.targetCores);
  // A worker with no user to run would only cost its start-up.
  return opts.schedule.mode === "closed" ? Math.min(free, opts.schedule.users) : free;
}
