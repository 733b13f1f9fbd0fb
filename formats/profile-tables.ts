/**
 * Schemas of the server-side profile tables (written only when profiles are
 * found): seed 000's step-phase CSVs, seed 003's profilemate session CSVs,
 * seed 001's PyTorch chrome traces. Formats: ../shared/formats/README.md.
 */

import { AGG_FILES, profilemateFile } from "./agg-layout.ts";
import { type ColumnDef, type ColumnType, col, type TableDef } from "./agg-tables.ts";

/** Where a profile row came from: the experiment folder holding it, or a `--profiles` path. */
const KEY_COLUMNS: ColumnDef[] = [
  col("schema_version", "int32", "version of this schema", false),
  col("campaign", "dict", "campaign of the experiment folder; null for a `--profiles` path"),
  col("experiment_id", "dict", "experiment id; null for a `--profiles` path"),
  col("source", "dict", "file the row came from (path as found)", false),
];

/** The per-step phase shares, by phase: what the report's step-phase chart draws. */
export const STEP_PHASE_SHARES = {
  scheduler: "scheduler_share",
  execute: "execute_share",
  update: "update_share",
} as const;

export const STEP_PHASES_TABLE: TableDef = {
  file: AGG_FILES.stepPhases,
  doc: "One row per engine `step()` from seed-000 `execution_stats_*.csv` files: phase times, per-step phase shares, and prefill/decode counts parsed from `num_scheduled_tokens` (1 token = a decode; more = prefill tokens).",
  sortedBy: ["campaign", "experiment_id", "source", "step"],
  computedIn: "analysis/aggregate/step-phases.ts parseStepPhases()",
  columns: [
    ...KEY_COLUMNS,
    col("step", "int64", "0-based row number in the CSV", false),
    col("scheduler_s", "float64", "scheduling phase (s)", false),
    col("execute_s", "float64", "model execution phase (s)", false),
    col("update_s", "float64", "output update phase (s)", false),
    col("step_s", "float64", "sum of the three phases (s)", false),
    col(STEP_PHASE_SHARES.scheduler, "float64", "scheduler_s / step_s (null when step_s = 0)"),
    col(STEP_PHASE_SHARES.execute, "float64", "execute_s / step_s"),
    col(STEP_PHASE_SHARES.update, "float64", "update_s / step_s"),
    col("prefill_requests", "int64", "requests with more than one scheduled token"),
    col("decode_requests", "int64", "requests with exactly one scheduled token"),
    col("prefill_tokens", "int64", "tokens scheduled for prefills"),
    col("decode_tokens", "int64", "tokens scheduled for decodes"),
  ],
};

/** profilemate CSV kinds and their column types (seed 003); other columns are kept as strings. */
export const PROFILEMATE_KINDS: Record<string, Record<string, ColumnType>> = {
  forward_pass_timing: {
    timestamp_sec: "float64",
    phase: "dict",
    batch_size: "int64",
    num_tokens: "int64",
    forward_time_ms: "float64",
    throughput_tokens_per_sec: "float64",
  },
  cpu_operations_timing: {
    timestamp_sec: "float64",
    operation: "dict",
    duration_ms: "float64",
    context: "string",
  },
  batch_utilization: {
    timestamp_sec: "float64",
    num_seqs: "int64",
    max_num_seqs: "int64",
    seq_utilization_pct: "float64",
    num_tokens: "int64",
    max_tokens: "int64",
    token_utilization_pct: "float64",
    phase: "dict",
    running_queue_len: "int64",
    waiting_queue_len: "int64",
  },
  preemption_events: {
    timestamp_sec: "float64",
    request_id: "string",
    event: "dict",
    reason: "dict",
    running_time_sec: "float64",
    extra_info: "string",
  },
  request_lifecycle: {
    request_id: "string",
    started_sec: "float64",
    preempted_sec: "float64",
    resumed_sec: "float64",
    finished_sec: "float64",
    total_time_sec: "float64",
    preemption_delay_sec: "float64",
  },
  encoder_decoder_timing: {
    timestamp_sec: "float64",
    component: "dict",
    duration_ms: "float64",
    context: "string",
  },
  kv_cache_usage: {
    timestamp_sec: "float64",
    usage_pct: "float64",
    num_blocks: "int64",
    total_blocks: "int64",
  },
  kv_cache_evictions: { timestamp_sec: "float64", lifetime_sec: "float64", idle_sec: "float64" },
  cuda_graph_captures: {
    runtime_mode: "dict",
    num_tokens: "int64",
    num_reqs: "int64",
    uniform: "bool",
    has_lora: "bool",
    capture_time_sec: "float64",
  },
  cuda_graph_usage: {
    runtime_mode: "dict",
    num_tokens: "int64",
    num_reqs: "int64",
    uniform: "bool",
    has_lora: "bool",
    replay_count: "int64",
  },
  cuda_graph_timeline: { timestamp_sec: "float64", descriptor: "string", duration_ms: "float64" },
};

export function profilemateTable(kind: string): TableDef {
  const types = PROFILEMATE_KINDS[kind] ?? {};
  return {
    file: profilemateFile(kind),
    doc: `Rows of profilemate's \`${kind}.csv\` (seed 003) from every session folder found; an empty cell is null.`,
    sortedBy: ["campaign", "experiment_id", "session", "row order"],
    computedIn: "analysis/aggregate/profilemate.ts parseProfilemateCsv()",
    columns: [
      ...KEY_COLUMNS,
      col("session", "dict", "session folder name (`session_<timestamp>`)", false),
      ...Object.entries(types).map(([name, type]) =>
        col(name, type, `\`${name}\` as profilemate wrote it`),
      ),
    ],
  };
}

const traceAggregate = (what: string, unit: string): ColumnDef[] => [
  ...KEY_COLUMNS,
  col("name", "string", `${what} name`, false),
  col("calls", "int64", "complete events (`ph: X`) with this name", false),
  col("total_us", "float64", `summed duration (µs)`, false),
  col("mean_us", "float64", "total_us / calls", false),
  col("share", "float64", `total_us / all ${unit} time in the trace`, false),
];

export const KERNELS_TABLE: TableDef = {
  file: AGG_FILES.kernels,
  doc: "Per GPU kernel (`cat: kernel`) of each PyTorch chrome trace (seed 001): calls, total and mean time, share of GPU kernel time.",
  sortedBy: ["campaign", "experiment_id", "source", "total_us descending", "name"],
  computedIn: "analysis/aggregate/chrome-trace.ts readChromeTrace()",
  columns: traceAggregate("kernel", "kernel"),
};

export const OPS_TABLE: TableDef = {
  file: AGG_FILES.ops,
  doc: "Per host operator (`cat: cpu_op`) of each PyTorch chrome trace (seed 001): calls, total and mean time (nested ops overlap their parents), share of all cpu_op time.",
  sortedBy: ["campaign", "experiment_id", "source", "total_us descending", "name"],
  computedIn: "analysis/aggregate/chrome-trace.ts readChromeTrace()",
  columns: traceAggregate("operator", "cpu_op"),
};

export const PROFILE_TABLES: readonly TableDef[] = [
  STEP_PHASES_TABLE,
  ...Object.keys(PROFILEMATE_KINDS).map(profilemateTable),
  KERNELS_TABLE,
  OPS_TABLE,
];
