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
  computedIn: "analysis/aggregate/step-phases.ts readStepPhases()",
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
    computedIn: "analysis/aggregate/profilemate.ts readProfilemateCsv()",
    columns: [
      ...KEY_COLUMNS,
      col("session", "dict", "session folder name (`session_<timestamp>`)", false),
      ...Object.entries(types).map(([name, type]) =>
        col(name, type, `\`${name}\` as profilemate wrote it`),
      ),
    ],
  };
}

/** What `<kind>_summary.json` is read as: one row per number, at most two levels deep. */
export const PROFILEMATE_SUMMARIES_TABLE: TableDef = {
  file: profilemateFile("summaries"),
  doc: "profilemate's `*_summary.json` files (seed 003) in long form: one row per value. `{prefill: {mean_ms: …}}` gives key `prefill`, stat `mean_ms`; a top-level number (`total_samples`) has key null; deeper objects join their path into `stat` with dots. Numbers and booleans (1/0) go to `value`, strings to `text`.",
  sortedBy: ["campaign", "experiment_id", "session", "kind", "file order"],
  computedIn: "analysis/aggregate/profilemate.ts parseProfilemateSummary()",
  columns: [
    ...KEY_COLUMNS,
    col("session", "dict", "session folder name (`session_<timestamp>`)", false),
    col(
      "kind",
      "dict",
      "the file's name before `_summary.json` (`forward_pass`, `cpu_timing`, …)",
      false,
    ),
    col(
      "key",
      "dict",
      "top-level key holding an object (`prefill`, `schedule`); null for a top-level value",
    ),
    col(
      "stat",
      "dict",
      "the value's name within it (`mean_ms`, `p95_ms`, `total_preemptions`)",
      false,
    ),
    col("value", "float64", "the number (booleans 1/0); null for a string or null"),
    col("text", "string", "the value when it is a string"),
  ],
};

/** profilemate's `metadata.json`, one row per session. */
export const PROFILEMATE_SESSIONS_TABLE: TableDef = {
  file: profilemateFile("sessions"),
  doc: "One row per profilemate session folder with a readable `metadata.json` (seed 003): its id, start, output folder, the profiler switches, and for a session the campaign cut to an experiment's window, that window (`vscale_slice`, docs/campaign.md).",
  sortedBy: ["campaign", "experiment_id", "session"],
  computedIn: "analysis/aggregate/profilemate.ts parseProfilemateMetadata()",
  columns: [
    ...KEY_COLUMNS,
    col("session", "dict", "session folder name (`session_<timestamp>`)", false),
    col("session_id", "string", "`session_id` as written"),
    col(
      "start_time_s",
      "float64",
      "`start_time` in Unix seconds (a number as written, or an ISO date-time parsed)",
    ),
    col("start_time_text", "string", "`start_time` as written"),
    col("output_dir", "string", "`output_dir` as written"),
    col("switches", "string", "every boolean key (profiler switches) as a JSON object"),
    col(
      "slice_experiment_id",
      "string",
      "`vscale_slice.experiment_id`: the experiment this cut belongs to; null for a whole session",
    ),
    col("slice_window_start_us", "timestamp_us", "`vscale_slice.window_start_us`"),
    col("slice_window_end_us", "timestamp_us", "`vscale_slice.window_end_us`"),
  ],
};

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
  PROFILEMATE_SUMMARIES_TABLE,
  PROFILEMATE_SESSIONS_TABLE,
  KERNELS_TABLE,
  OPS_TABLE,
];
