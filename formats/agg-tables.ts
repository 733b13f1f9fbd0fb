/**
 * The schema of every table aggregation writes to `results/agg/`. One
 * definition per file: the Arrow schema, the CSV header and `docs/schema.md`
 * are all generated from these, so they cannot drift apart. Bump
 * AGG_SCHEMA_VERSION whenever a column changes meaning, type or name.
 */
import { FACTOR_COLUMN_TYPES, FACTOR_NAMES, type FactorName } from "../config/factors.ts";
import { AGG_FILES } from "./agg-layout.ts";
import { ErrorKind } from "./request-record.ts";
import { expositionName, VLLM_LEGACY_NAMES, VLLM_METRICS } from "./vllm-metrics.ts";

// Schema 3: latency figures take the requests sent in the window, with their `_n`.
export const AGG_SCHEMA_VERSION = 3;

/** `dict` = dictionary-encoded string; `timestamp_us` = microseconds since the epoch, UTC. */
export type ColumnType =
  | "int32"
  | "int64"
  | "float64"
  | "bool"
  | "string"
  | "dict"
  | "timestamp_us";

export interface ColumnDef {
  name: string;
  type: ColumnType;
  nullable: boolean;
  doc: string;
  /** Where the value is computed (`module function()`), when not the table's `computedIn`. */
  computedIn?: string;
}

export interface TableDef {
  /** File name inside `results/agg/` (formats/agg-layout.ts). */
  file: string;
  doc: string;
  /** Where the rows are computed (`module function()`): one hop from here to the code. */
  computedIn: string;
  /** Row order (the file is deterministic: same raw input, same rows, same order). */
  sortedBy: string[];
  columns: ColumnDef[];
}

export const col = (name: string, type: ColumnType, doc: string, nullable = true): ColumnDef => ({
  name,
  type,
  nullable,
  doc,
});

/** Factor column types: derived from the factors table (config/factors.ts), one row per factor. */
const FACTOR_TYPES: Record<FactorName, ColumnType> = FACTOR_COLUMN_TYPES;

/** Factors that are columns even when no experiment sets them. */
export const ALWAYS_PRESENT_FACTORS: readonly FactorName[] = ["gpus", "tp", "dp"];

export const LATENCY_METRICS = [
  "ttft_ms",
  "tpot_ms",
  "itl_ms",
  "itl_request_mean_ms",
  "e2e_ms",
] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];
export const LATENCY_STATS = ["mean", "p50", "p90", "p95", "p99"] as const;
export type LatencyStat = (typeof LATENCY_STATS)[number];

// Schema 3: over requests sent in the window, followed to their end (schema 2: ended in it).
const LATENCY_DOC: Record<LatencyMetric, string> = {
  ttft_ms: "time to first token (ms), over ok requests sent in the window",
  tpot_ms: "time per output token after the first (ms), over ok requests sent in the window",
  // Schema 2: pooled, as `vllm bench serve` (`itls += output.itl`); schema 1 took percentiles of per-request means.
  itl_ms:
    "inter-token latency (ms), every gap between text chunks of ok requests sent in the window, pooled (as `vllm bench serve`); null when no record carries `itl_gaps_ms`",
  itl_request_mean_ms:
    "per-request mean inter-token gap (ms), one value per ok request sent in the window (what `itl_ms` percentiles were in schema 1)",
  e2e_ms: "end-to-end request latency (ms), over ok requests sent in the window",
};

/** What `<metric>_n` counts. */
const LATENCY_N_DOC: Record<LatencyMetric, string> = {
  ttft_ms:
    "requests the TTFT statistics read (ok requests sent in the window with a TTFT, and cut ones whose first token had come)",
  tpot_ms: "ok requests sent in the window with a TPOT (more than one output token)",
  itl_ms: "inter-token gaps the pooled ITL statistics read (several per request)",
  itl_request_mean_ms: "ok requests sent in the window with a mean gap",
  e2e_ms: "ok requests sent in the window",
};

export const SERVER_HISTOGRAMS = {
  ttft_s: VLLM_METRICS.timeToFirstToken.name,
  queue_s: VLLM_METRICS.requestQueueTime.name,
  prefill_s: VLLM_METRICS.requestPrefillTime.name,
  decode_s: VLLM_METRICS.requestDecodeTime.name,
} as const;
export type ServerHistogram = keyof typeof SERVER_HISTOGRAMS;

export const ERROR_KINDS = ErrorKind.options;

function summaryColumns(): ColumnDef[] {
  const columns: ColumnDef[] = [
    col("schema_version", "int32", `version of this schema (${AGG_SCHEMA_VERSION})`, false),
    col("campaign", "dict", "campaign name", false),
    col("experiment_id", "string", "experiment id, unique within the campaign", false),
    col("group_id", "dict", "server group (experiments sharing one server start)", false),
    col("repeat", "int32", "1-based repeat number", false),
    col("status", "dict", "`ok`, `failed` or `interrupted` (from status.json)", false),
    col("status_reason", "string", "why the experiment failed or was interrupted"),
    col(
      "window_flags",
      "string",
      "why the window is not to be trusted (status.json `flags`, joined by `; `): it overran by more than a cool-down lasts (the request timeout + 1 s), or had no after-scrape; null when none",
    ),
    col(
      "request_problems",
      "string",
      "why the request figures are null although records exist: records of another experiment, repeated request ids, none sent or ended in the window (a clock off), or none ok while status.json says ok; null when none",
    ),
  ];
  for (const factor of FACTOR_NAMES) {
    const always = ALWAYS_PRESENT_FACTORS.includes(factor);
    columns.push(
      col(
        factor,
        FACTOR_TYPES[factor],
        `factor \`${factor}\`${always ? "" : " (column present only if some experiment has it)"}`,
      ),
    );
  }
  columns.push(
    col("engine", "dict", "load engine: `node` or `k6`"),
    col("mode", "dict", "load mode: `closed` or `open`"),
    col("api", "dict", "`chat` or `completions`"),
    col("model", "dict", "model name served"),
    col(
      "load_users",
      "int64",
      "closed loop: concurrent users this experiment ran (`per_gpu` resolved: users per GPU × gpus); null for an open loop. The fit reads a group's load scaling from it (Gustafson only where it grows in proportion to N)",
    ),
    col(
      "load_rate",
      "float64",
      "open loop: mean request rate offered (req/s, `per_gpu` resolved); null for a closed loop",
    ),
    col("window_s", "float64", "length of the measurement window (s), warm-up excluded"),
    col("requests_ok", "int64", "successful requests finished in the window"),
    col("requests_failed", "int64", "failed requests finished in the window (cancelled excluded)"),
    col("error_rate", "float64", "requests_failed / (requests_ok + requests_failed)"),
  );
  for (const kind of ERROR_KINDS) {
    columns.push(
      col(`errors_${kind}`, "int64", `requests in the window that failed with \`${kind}\``),
    );
  }
  columns.push(
    col(
      "prefill_ms_per_token",
      "float64",
      "prefill-only: per complete wave, its duration (first send → last finish) / its prompt tokens (B × C, plus the chat template's tokens as usage counts them), ms; median over the window's waves; null for other loads",
    ),
    col(
      "prefill_wave_ms_p50",
      "float64",
      "prefill-only: median duration of a complete wave of B requests (first send → last finish), ms; null for other loads",
    ),
    col(
      "decode_step_ms",
      "float64",
      "decode-only: the steady decode step time at batch B, the median of every inter-token gap of the window's streams (= itl_ms_p50), ms; null for other loads",
    ),
    col("requests_per_s", "float64", "requests_ok / window_s"),
    col("output_tokens_per_s", "float64", "output tokens of ok requests in the window / window_s"),
    col("total_tokens_per_s", "float64", "prompt + output tokens of ok requests / window_s"),
  );
  for (const metric of LATENCY_METRICS) {
    for (const stat of LATENCY_STATS) {
      columns.push(
        col(
          `${metric}_${stat}`,
          "float64",
          `${stat} of ${LATENCY_DOC[metric]}; null below its minimum sample or where cut requests could move it (\`latency_flags\`)`,
        ),
      );
    }
    columns.push(col(`${metric}_n`, "int64", LATENCY_N_DOC[metric]));
  }
  columns.push(
    col(
      "latency_censored",
      "int64",
      "requests sent in the window and cut before their end (cancelled after the cool-down's cap, by k6's stop or Ctrl-C, or timed out): their latency is unknown or a lower bound",
    ),
    col(
      "latency_flags",
      "string",
      "why a latency statistic is null though requests were sent (`e2e_ms p99 null: 37 values < 100`), `; `-joined; docs/statistics.md gives the rule; null when none",
    ),
  );
  columns.push(
    col(
      "goodput_requests_per_s",
      "float64",
      "ok requests in the window with ttft_ms ≤ slo_ttft_ms and tpot_ms ≤ slo_tpot_ms, per second",
    ),
    col("goodput_fraction", "float64", "those requests / (requests_ok + requests_failed)"),
    col("slo_ttft_ms", "float64", "TTFT objective used for goodput (ms)"),
    col("slo_tpot_ms", "float64", "TPOT objective used for goodput (ms)"),
    col(
      "client_loop_lag_ms_p99",
      "float64",
      "load client's event-loop delay p99 (ms), worst worker (experiment.json `client`); null when the engine cannot measure it (k6)",
    ),
    col(
      "client_send_lag_ms_p99",
      "float64",
      "send lag p99 (ms), worst worker: actual − scheduled send (open loop), reply end → next send less think time (closed loop)",
    ),
    col(
      "client_read_wait_ms_p99",
      "float64",
      "how long a socket read's bytes can have waited before the worker read them (behind its poll phase's other reads, or a busy loop's turn), p99 (ms), worst worker; null for k6 and records written before it",
    ),
    col("client_cpu_pct", "float64", "event-loop utilisation of the busiest load worker (%)"),
    col("client_workers", "int64", "load worker threads that ran"),
    col(
      "client_limited",
      "bool",
      "the client passed a saturation threshold (docs/load.md): its lag, not the server, may have set this row's figures",
    ),
    col("gpu_util_mean", "float64", "GPU utilisation (%), mean over GPUs in use and samples"),
    col("gpu_util_max", "float64", "GPU utilisation (%), max"),
    col("gpu_mem_used_mib_mean", "float64", "GPU memory used (MiB), mean"),
    col("gpu_mem_used_mib_max", "float64", "GPU memory used (MiB), max"),
    col("gpu_power_w_mean", "float64", "GPU power draw (W), mean"),
    col("gpu_power_w_max", "float64", "GPU power draw (W), max"),
    col(
      "server_requests",
      "int64",
      `Δ ${expositionName(VLLM_METRICS.requestSuccess)} over the window (all reasons)`,
    ),
    col("server_prompt_tokens", "int64", `Δ ${expositionName(VLLM_METRICS.promptTokens)}`),
    col("server_generation_tokens", "int64", `Δ ${expositionName(VLLM_METRICS.generationTokens)}`),
    col("server_preemptions", "int64", `Δ ${expositionName(VLLM_METRICS.numPreemptions)}`),
    col(
      "server_prefix_queries",
      "int64",
      `Δ ${expositionName(VLLM_METRICS.prefixCacheQueries)} (prompt tokens looked up; 0 with caching off)`,
    ),
    col(
      "server_prefix_hits",
      "int64",
      `Δ ${expositionName(VLLM_METRICS.prefixCacheHits)} (prompt tokens found cached)`,
    ),
  );
  for (const [short, metric] of Object.entries(SERVER_HISTOGRAMS)) {
    columns.push(
      col(`server_${short}_mean`, "float64", `Δsum/Δcount of \`${metric}\``),
      col(`server_${short}_p50`, "float64", `median of \`${metric}\` from bucket deltas`),
      col(`server_${short}_p99`, "float64", `p99 of \`${metric}\` from bucket deltas`),
    );
  }
  columns.push(
    col(
      "server_running_mean",
      "float64",
      `mean of ${VLLM_METRICS.numRequestsRunning.name} samples`,
    ),
    col(
      "server_waiting_mean",
      "float64",
      `mean of ${VLLM_METRICS.numRequestsWaiting.name} samples`,
    ),
    col(
      "server_kv_cache_usage_max",
      "float64",
      `max of ${VLLM_METRICS.kvCacheUsage.name} (or the older ${VLLM_LEGACY_NAMES.kvCacheUsage[0]}), 0–1`,
    ),
    col(
      "server_prefix_hit_rate",
      "float64",
      "server_prefix_hits / server_prefix_queries over the window; null without queries",
    ),
    col(
      "server_prefix_caching",
      "bool",
      "prefix caching on: `enable_prefix_caching` of vllm:cache_config_info, else the last `--[no-]enable-prefix-caching` in the argv; null when neither says",
    ),
    col(
      "prompt_prefix_share",
      "float64",
      "share (0–1) of prompt characters in a leading run (of at least `MIN_SHARED_PREFIX_CHARS`) shared with another prompt of the set (experiment.json `prompt_set.prefix_share`)",
    ),
    col(
      "bottleneck",
      "dict",
      "what limited the run: `client`, `memory`, `cache`, `scheduling`, `compute` or `none` (docs/why.md); null when its signals are missing",
    ),
    col(
      "bottleneck_evidence",
      "string",
      "the figures and thresholds that decided `bottleneck`, `key=value (threshold)` joined by `; `",
    ),
  );
  return columns;
}

const EXPERIMENT_SOURCE = "analysis/aggregate/aggregate-experiment.ts aggregateExperiment()";
const REQUEST_STATS_SOURCE = "stats/request-window.ts WindowStats.figures()";

/**
 * Which module computes a summary column, by the column's family (kept apart
 * from the column list so the list stays one declarative table).
 */
function summarySource(name: string): string {
  if (name.startsWith("client_")) return "load/client-guard.ts clientGuard()";
  if (name.startsWith("bottleneck")) return "analysis/why/classify.ts classify()";
  if (name === "prompt_prefix_share") return "load/workload/prefix-share.ts promptPrefixShare()";
  if (name === "server_prefix_hit_rate")
    return "analysis/aggregate/prefix-cache.ts prefixCacheHitRate()";
  if (name === "server_prefix_caching")
    return "analysis/aggregate/prefix-cache.ts prefixCachingOf()";
  if (name.startsWith("gpu_")) return "analysis/aggregate/gpu-samples.ts gpuColumns()";
  if (["server_running_mean", "server_waiting_mean", "server_kv_cache_usage_max"].includes(name))
    return "analysis/aggregate/server-figures.ts GaugeFigures.finish()";
  if (name.startsWith("server_"))
    return "analysis/aggregate/server-figures.ts scrapeDeltaColumns()";
  if (["prefill_ms_per_token", "prefill_wave_ms_p50", "decode_step_ms"].includes(name))
    return "stats/scenario-figures.ts scenarioFigures()";
  const fromRequests =
    name === "window_s" ||
    name.startsWith("requests_") ||
    name.startsWith("errors_") ||
    name.startsWith("goodput_") ||
    name.startsWith("slo_") ||
    name.startsWith("latency_") ||
    ["error_rate", "output_tokens_per_s", "total_tokens_per_s"].includes(name) ||
    LATENCY_METRICS.some((m) => name.startsWith(`${m}_`));
  return fromRequests ? REQUEST_STATS_SOURCE : EXPERIMENT_SOURCE;
}

export const SUMMARY_TABLE: TableDef = {
  file: AGG_FILES.summary,
  doc: "One row per experiment: factors, counts, throughput, latency, goodput, GPU and server-side figures. `summary.csv` holds the same rows and columns.",
  sortedBy: ["campaign", "experiment_id"],
  computedIn: EXPERIMENT_SOURCE,
  columns: summaryColumns().map((c) => ({ ...c, computedIn: summarySource(c.name) })),
};

export const REQUESTS_TABLE: TableDef = {
  file: AGG_FILES.requests,
  doc: "One row per request record (`formats/request-record.ts`), warm-up included, for CDFs.",
  sortedBy: ["campaign", "experiment_id", "line order in requests.ndjson"],
  computedIn: "analysis/aggregate/request-table.ts stageRequests()",
  columns: [
    col("schema_version", "int32", "version of this schema", false),
    col("campaign", "dict", "campaign name", false),
    col("experiment_id", "dict", "experiment id", false),
    col("gpus", "int64", "factor `gpus` of the experiment"),
    col("engine", "dict", "`node`, `k6` or `k6-sse`", false),
    col("request_id", "string", "request id", false),
    col("prompt_set", "dict", "prompt set name", false),
    col("start_us", "int64", "send time, µs since the epoch", false),
    col("end_us", "int64", "completion or failure time, µs since the epoch", false),
    col("ttft_ms", "float64", "time to first token (ms)"),
    col("e2e_ms", "float64", "end-to-end latency (ms)"),
    col("itl_mean_ms", "float64", "mean inter-token gap (ms)"),
    col("itl_p50_ms", "float64", "median inter-token gap (ms)"),
    col("itl_p90_ms", "float64", "p90 inter-token gap (ms)"),
    col("itl_p99_ms", "float64", "p99 inter-token gap (ms)"),
    col("itl_max_ms", "float64", "largest inter-token gap (ms)"),
    col("tpot_ms", "float64", "time per output token after the first (ms)"),
    col("prompt_tokens", "int64", "prompt tokens"),
    col("output_tokens", "int64", "output tokens"),
    col("max_tokens", "int64", "the request's max_tokens (null in records of older runs)"),
    col("tokens_from_usage", "bool", "token counts from the server's `usage`", false),
    col("http_status", "int32", "HTTP status"),
    col("ok", "bool", "request succeeded", false),
    col("error_kind", "dict", "failure class (`formats/request-record.ts` ErrorKind)"),
    col("error_message", "string", "short, secret-free failure description"),
    col("finish_reason", "dict", "finish reason reported by the server"),
    col("warmup", "bool", "sent during warm-up", false),
    col(
      "in_window",
      "bool",
      "finished inside the window (counts for throughput; latency figures take the requests sent inside it instead)",
      false,
    ),
    col("wave", "int64", "prefill-only scenario: the request's 0-based wave; null otherwise"),
  ],
};

export const GPU_TABLE: TableDef = {
  file: AGG_FILES.gpu,
  doc: "GPU samples from `gpu.csv` (`nvidia-smi --query-gpu`) or `gpu-dmon.txt` (`nvidia-smi dmon`). nvidia-smi prints host-local time; it is read in the aggregating host's time zone.",
  sortedBy: ["campaign", "experiment_id", "source", "time", "gpu_index"],
  computedIn: "analysis/aggregate/gpu-samples.ts parseQueryGpuCsv() / parseDmon()",
  columns: [
    col("schema_version", "int32", "version of this schema", false),
    col("campaign", "dict", "campaign name", false),
    col("experiment_id", "dict", "experiment id", false),
    col("source", "dict", "`query-gpu` or `dmon`", false),
    col("time", "timestamp_us", "sample time"),
    col("gpu_index", "int32", "GPU index", false),
    col("util_gpu_pct", "float64", "SM utilisation (%)"),
    col("util_mem_pct", "float64", "memory-controller utilisation (%)"),
    col("mem_used_mib", "float64", "framebuffer memory used (MiB)"),
    col("mem_total_mib", "float64", "framebuffer memory total (MiB)"),
    col("power_w", "float64", "power draw (W)"),
    col("temp_c", "float64", "GPU temperature (°C)"),
    col("sm_clock_mhz", "float64", "SM clock (MHz)"),
    col("in_window", "bool", "sample taken inside the measurement window", false),
  ],
};

export const SERVER_METRICS_TABLE: TableDef = {
  file: AGG_FILES.serverMetrics,
  doc: "Gauge samples scraped from `/metrics` during the window (`metrics.ndjson`).",
  sortedBy: ["campaign", "experiment_id", "line order in metrics.ndjson"],
  computedIn: EXPERIMENT_SOURCE,
  columns: [
    col("schema_version", "int32", "version of this schema", false),
    col("campaign", "dict", "campaign name", false),
    col("experiment_id", "dict", "experiment id", false),
    col("time", "timestamp_us", "scrape time", false),
    col("metric", "dict", `metric name, e.g. \`${VLLM_METRICS.numRequestsRunning.name}\``, false),
    col("labels", "string", "labels as JSON with sorted keys", false),
    col("value", "float64", "sample value", false),
  ],
};

export const CORE_TABLES: readonly TableDef[] = [
  SUMMARY_TABLE,
  REQUESTS_TABLE,
  GPU_TABLE,
  SERVER_METRICS_TABLE,
];
