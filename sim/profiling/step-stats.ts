/**
 * Seed 000_3eacb4ee61cd308d's step-phase CSV: the patched
 * `vllm/v1/engine/core.py` appends one row per `step()` (phase times in
 * seconds, `num_scheduled_tokens` as a Python dict) and writes
 * `execution_stats_{num_requests}_{request_rate}_{temperature}_{model}_{dataset}.csv`
 * at shutdown. The seed took rate, temperature and dataset from its benchmark
 * runner; a server does not know them, so they are written `na`. The leading
 * `timestamp_sec` (Unix seconds of the step's start) is the simulator's own
 * addition, which the seed's readers ignore (they select columns by name): it lets a
 * campaign cut one server's file per experiment window, as it cuts profilemate CSVs.
 */
import type { StepView } from "./step-view.ts";

export const STEP_STATS_COLUMNS = [
  "timestamp_sec",
  "scheduler_time",
  "execute_time",
  "update_time",
  "num_scheduled_tokens",
  "scheduled_new_reqs",
  "model",
  "block_size",
  "gpu_memory_utilization",
  "num_gpu_blocks",
  "enable_prefix_caching",
  "max_num_sequences",
  "max_model_len",
] as const;

export interface StepStatsConfig {
  model: string;
  blockSize: number;
  gpuMemoryUtilization: number;
  enablePrefixCaching: boolean;
  maxModelLen: number;
}

/** The seed's file name (the model's `/` replaced by `-`). */
export function stepStatsFileName(numRequests: number, model: string): string {
  return `execution_stats_${numRequests}_na_na_${model.replaceAll("/", "-")}_na.csv`;
}

/** `{'req-1': 1, 'req-7': 128}`, as Python's repr of a dict[str, int]. */
export function pythonDict(chunks: StepView["chunks"]): string {
  const items = chunks.map(
    ({ id, tokens }) => `'${id.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}': ${tokens}`,
  );
  return `{${items.join(", ")}}`;
}

/** One row, cells in STEP_STATS_COLUMNS order. */
export function stepStatsRow(
  v: StepView,
  config: StepStatsConfig,
  startEpochS: number,
): (string | number)[] {
  return [
    startEpochS,
    v.cost.scheduleMs / 1000,
    v.cost.executeMs / 1000,
    v.cost.updateMs / 1000,
    pythonDict(v.chunks),
    v.newRequests,
    config.model,
    config.blockSize,
    config.gpuMemoryUtilization,
    v.kvTotalBlocks,
    config.enablePrefixCaching ? "True" : "False",
    v.maxNumSeqs,
    config.maxModelLen,
  ];
}
