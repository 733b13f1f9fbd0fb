/**
 * The matrix's `load` section (snake_case, durations in ms) → the options a
 * load engine takes. Pure, so the mapping is tested without a server.
 */
import type { Experiment } from "../config/expand.ts";
import { resolveWorkers } from "../load/node/auto-workers.ts";
import type { MultiLoadOptions } from "../load/node/workers.ts";
import type { PreparedPromptSet } from "../load/workload/prompts.ts";
import { scenarioSchedule } from "../load/workload/scenarios.ts";

export function loadRunOptions(args: {
  experiment: Experiment;
  url: string;
  model: string;
  promptSet: PreparedPromptSet;
  outFile: string;
  apiKey?: string;
  /** Cores a server on this machine needs (load/node/auto-workers.ts targetCores()). */
  targetCores?: number;
}): MultiLoadOptions {
  const l = args.experiment.load;
  const schedule: MultiLoadOptions["schedule"] =
    l.scenario !== "mixed"
      ? scenarioSchedule(l.scenario, l.batch_size ?? 1)
      : l.mode === "closed"
        ? {
            mode: "closed",
            users: l.users ?? 1,
            ...(l.spawn_rate !== undefined ? { spawnRate: l.spawn_rate } : {}),
            thinkTimeMs: l.think_time,
            ...(l.turns > 1 ? { turns: l.turns } : {}),
          }
        : {
            mode: "open",
            rate: l.rate ?? 1,
            arrival: l.arrival,
            burstiness: l.burstiness,
            ...(l.max_concurrency !== undefined ? { maxConcurrency: l.max_concurrency } : {}),
          };
  return {
    url: args.url,
    model: args.model,
    api: l.api,
    ...(args.apiKey !== undefined ? { apiKey: args.apiKey } : {}),
    experimentId: args.experiment.id,
    promptSet: args.promptSet,
    schedule,
    warmupMs: l.warmup,
    durationMs: l.duration,
    maxTokens: l.max_tokens,
    stream: l.stream,
    ignoreEos: l.ignore_eos,
    temperature: l.temperature,
    timeoutMs: l.timeout,
    seed: args.experiment.seed,
    drain: l.drain,
    outFile: args.outFile,
    workers: resolveWorkers(l.workers, { schedule, targetCores: args.targetCores ?? 0 }),
  };
}
