/**
 * The raw results layout that the campaign runner writes and aggregation reads:
 *
 *   results/raw/<campaign>/<experiment>/
 *     experiment.json       what ran (ExperimentInfoSchema), rewritten at the end with times
 *     requests.ndjson       one RequestRecord per line (formats/request-record.ts)
 *     gpu.csv               `nvidia-smi --query-gpu=<GPU_QUERY_FIELDS> --format=csv,nounits -lms 1000`, as printed
 *     metrics-before.prom   `/metrics` scraped just before the load window
 *     metrics-after.prom    `/metrics` scraped just after it
 *     metrics.ndjson        gauge samples during the window (MetricSampleSchema), one per line
 *     k6-summary.json       k6's handleSummary output, when k6 ran
 *     status.json           written last and atomically: marks the experiment complete
 *     profiles/             server profiles of this experiment (with `load.profile`):
 *                           torch traces of the profiled slice, the profilemate session
 *                           cut to the window, the step CSV when the server ran only it
 *   results/raw/<campaign>/_servers/<group>.log   server stdout/stderr per server group
 *   results/raw/<campaign>/_profiles/<group>/     the group server's profiler folders while it
 *                           runs, then its whole sessions and step CSVs (`server-<n>/`, with
 *                           covers.json naming the experiments that server ran)
 *
 * One schema per file, as everywhere: these are the format's documentation.
 */
import { join } from "node:path";
import { z } from "zod";

export const RAW_SCHEMA_VERSION = 1;

export const RAW_FILES = {
  experiment: "experiment.json",
  requests: "requests.ndjson",
  gpu: "gpu.csv",
  metricsBefore: "metrics-before.prom",
  metricsAfter: "metrics-after.prom",
  metricsSamples: "metrics.ndjson",
  k6Summary: "k6-summary.json",
  status: "status.json",
} as const;

export const SERVERS_DIR = "_servers";

/** An experiment's server profiles (campaign/profile-capture.ts). */
export const PROFILES_DIR = "profiles";

/** Per group: the profilers' output folders while the server runs, and what covers several experiments. */
export const PROFILES_STAGING_DIR = "_profiles";

/** Where one server process of a group had its profilers write (env var → folder). */
export const PROFILER_DIRS = {
  VLLM_TORCH_PROFILER_DIR: "torch",
  VLLM_PROFILING_DIR: "profilemate",
  VLLM_STEP_STATS_DIR: "steps",
} as const;

/** `_profiles/<group>/server-<n>/covers.json`: the experiments one server process ran. */
export const ProfileCoverSchema = z.strictObject({
  group_id: z.string(),
  experiments: z.array(
    z.strictObject({
      experiment_id: z.string(),
      window_start_us: z.number().int().nullable(),
      window_end_us: z.number().int().nullable(),
    }),
  ),
});
export type ProfileCover = z.infer<typeof ProfileCoverSchema>;

/** Fields asked of `nvidia-smi --query-gpu` (the same as the shared fixture `query-gpu-loop-load.csv`). */
export const GPU_QUERY_FIELDS = [
  "timestamp",
  "index",
  "utilization.gpu",
  "utilization.memory",
  "memory.used",
  "memory.total",
  "power.draw",
  "temperature.gpu",
  "clocks.sm",
] as const;

export function experimentDir(resultsDir: string, campaign: string, experimentId: string): string {
  return join(resultsDir, "raw", campaign, experimentId);
}

export const GpuInfoSchema = z.strictObject({
  index: z.number().int(),
  name: z.string(),
  uuid: z.string(),
  memory_total_mib: z.number().nullable(),
  driver_version: z.string().nullable(),
  pci_bus_id: z.string().nullable(),
});
export type GpuInfo = z.infer<typeof GpuInfoSchema>;

const factorValue = z.union([z.number(), z.string(), z.boolean()]);

/**
 * SHA-256 digests of everything that determines an experiment's result (see
 * campaign/fingerprint.ts): resume re-runs an experiment whose digest changed.
 */
export const FingerprintSchema = z.strictObject({
  digest: z.string(),
  /** One digest per part: server_argv, server_env, model, load, engine, prompts, seed, vscale_version. */
  parts: z.record(z.string(), z.string()),
});
export type Fingerprint = z.infer<typeof FingerprintSchema>;

/**
 * The GPUs an experiment's server was given, which aggregation averages over.
 * `indices: null` means host-wide: every GPU nvidia-smi reports (the simulator
 * uses none, so its GPU figures describe the host, not the experiment).
 */
export const GpusInUseSchema = z.strictObject({
  indices: z.array(z.number().int().min(0)).nullable(),
  /** Where the list came from: `CUDA_VISIBLE_DEVICES`, `server.gpu_indices`, or `host-wide`. */
  source: z.enum(["CUDA_VISIBLE_DEVICES", "server.gpu_indices", "host-wide"]),
  note: z.string().nullable(),
});
export type GpusInUse = z.infer<typeof GpusInUseSchema>;

/** One load worker's own lag (load/node/guard-probe.ts); null when it took no samples. */
export const WorkerLagSchema = z.strictObject({
  /** p99 of `perf_hooks.monitorEventLoopDelay` (ms beyond the monitor's resolution). */
  loop_lag_ms_p99: z.number().nullable(),
  /** p99 of send time − due time: open loop the scheduled arrival, closed loop the previous reply's end (+ think time). */
  send_lag_ms_p99: z.number().nullable(),
  /** Event-loop utilisation of the worker's thread (%): the CPU its one thread used. */
  cpu_pct: z.number().nullable(),
  send_lag_samples: z.number().int().min(0),
  /**
   * p99 of how long a socket read's bytes can have waited before the worker
   * read them (ms, load/node/read-wait.ts); absent in records written before it.
   */
  read_wait_ms_p99: z.number().nullable().optional(),
});
export type WorkerLag = z.infer<typeof WorkerLagSchema>;

/**
 * The saturation guard (load/client-guard.ts clientGuard()): the worst
 * worker's figures and whether they pass the documented thresholds.
 */
export const ClientGuardSchema = z.strictObject({
  workers: z.number().int().min(1),
  loop_lag_ms_p99: z.number().nullable(),
  send_lag_ms_p99: z.number().nullable(),
  cpu_pct: z.number().nullable(),
  /** The worst worker's read wait p99 (ms); absent in records written before it. */
  read_wait_ms_p99: z.number().nullable().optional(),
  /** The client, not the server, may have limited this run: its figures are suspect. */
  limited: z.boolean(),
  /** Which thresholds were passed, e.g. "send lag p99 42.0 ms > 10 ms". */
  reasons: z.array(z.string()),
  per_worker: z.array(WorkerLagSchema),
});
export type ClientGuard = z.infer<typeof ClientGuardSchema>;

export const ExperimentInfoSchema = z.strictObject({
  schema_version: z.literal(RAW_SCHEMA_VERSION),
  campaign: z.string(),
  experiment_id: z.string(),
  group_id: z.string(),
  /** 1-based repeat number. */
  repeat: z.number().int().min(1),
  seed: z.number().int(),
  /** Every factor assigned to this experiment, including the derived gpus/tp/dp. */
  factors: z.record(z.string(), factorValue),
  matrix_file: z.string(),
  server: z.strictObject({
    kind: z.enum(["sim", "vllm", "external"]),
    model: z.string(),
    /** The argv that ran, secrets replaced by `***`. */
    argv: z.array(z.string()),
    /** Names only: values may be secret. */
    env_names: z.array(z.string()),
    url: z.string(),
    /** From the server's `/version`, null when it has none. */
    version: z.string().nullable(),
  }),
  load: z.strictObject({
    engine: z.enum(["node", "k6"]),
    mode: z.enum(["closed", "open"]),
    api: z.enum(["chat", "completions"]),
    users: z.number().int().nullable(),
    rate: z.number().nullable(),
    arrival: z.string().nullable(),
    burstiness: z.number().nullable(),
    max_concurrency: z.number().int().nullable(),
    max_tokens: z.number().int(),
    stream: z.boolean(),
    ignore_eos: z.boolean(),
    temperature: z.number(),
    warmup_ms: z.number(),
    duration_ms: z.number(),
    timeout_ms: z.number(),
    /** Load workers (threads) that ran; absent in files of older runs (= 1). */
    workers: z.number().int().min(1).optional(),
  }),
  prompt_set: z.strictObject({
    name: z.string(),
    source: z.enum(["file", "synthetic"]),
    count: z.number().int(),
    /** True when prompt token counts are a characters-per-token estimate, not from `/tokenize`. */
    tokens_estimated: z.boolean(),
    /**
     * Share (0–1) of prompt characters in a leading run shared with another prompt of the set
     * (load/workload/prefix-share.ts promptPrefixShare()); absent in older runs, null when
     * the set never ran.
     */
    prefix_share: z.number().min(0).max(1).nullable().optional(),
  }),
  vscale_version: z.string(),
  host: z.strictObject({
    hostname: z.string(),
    platform: z.string(),
    cpus: z.number().int(),
    node: z.string(),
  }),
  /** GPU inventory from `nvidia-smi`, or null when no GPU data could be taken (see gpu_note). */
  gpus: z.array(GpuInfoSchema).nullable(),
  gpu_note: z.string().nullable(),
  /** The GPUs this experiment's server was given; absent in files of older runs (= host-wide). */
  gpus_in_use: GpusInUseSchema.optional(),
  /** Absent in files of older runs: resume then re-runs the experiment. */
  fingerprint: FingerprintSchema.optional(),
  /** The saturation guard's figures; absent in older runs and until the load ran. */
  client: ClientGuardSchema.optional(),
  times: z.strictObject({
    started_at: z.string(),
    /** Microseconds since the epoch; null until the phase happened. */
    warmup_start_us: z.number().int().nullable(),
    window_start_us: z.number().int().nullable(),
    window_end_us: z.number().int().nullable(),
    finished_at: z.string().nullable(),
  }),
});
export type ExperimentInfo = z.infer<typeof ExperimentInfoSchema>;

/**
 * One segment of an experiment whose load ran on several machines (`vscale
 * load --segment i/N`, `vscale k8s`): beside its records file
 * `requests.segment-<i>-of-<N>.ndjson`, `segment-<i>-of-<N>.json` says which
 * share it ran and its own window; aggregation merges the segments' records
 * (percentiles from every raw record, each classified by its segment's window).
 */
export const SegmentInfoSchema = z.strictObject({
  experiment_id: z.string(),
  segment: z.strictObject({ index: z.number().int().min(0), count: z.number().int().min(1) }),
  warmup_start_us: z.number().int(),
  window_start_us: z.number().int(),
  window_end_us: z.number().int(),
  records: z.number().int().min(0),
  /** Successful requests (whole run): a segment with none failed. */
  completed: z.number().int().min(0),
  interrupted: z.boolean(),
  client: ClientGuardSchema.nullable(),
  hostname: z.string(),
  finished_at: z.string(),
});
export type SegmentInfo = z.infer<typeof SegmentInfoSchema>;

export function segmentFileNames(segment: { index: number; count: number }): {
  requests: string;
  info: string;
} {
  const tag = `segment-${segment.index}-of-${segment.count}`;
  return { requests: `requests.${tag}.ndjson`, info: `${tag}.json` };
}

export const SEGMENT_INFO_PATTERN = /^segment-(\d+)-of-(\d+)\.json$/;

export const StatusSchema = z.strictObject({
  status: z.enum(["ok", "failed", "interrupted"]),
  reason: z.string().nullable(),
  finished_at: z.string(),
  /** Records written to requests.ndjson (all, warm-up included). */
  requests: z.number().int().min(0),
  /**
   * Why the window's figures are not to be trusted, e.g. it overran its length by
   * more than a cool-down lasts (the request timeout + 1 s), or ended with no after-scrape (a frozen
   * server). Any flag makes the status `failed`. Absent in files of older runs.
   */
  flags: z.array(z.string()).optional(),
});
export type Status = z.infer<typeof StatusSchema>;

/** One gauge sample scraped from `/metrics` during the window. */
export const MetricSampleSchema = z.strictObject({
  t_us: z.number().int(),
  metric: z.string(),
  labels: z.record(z.string(), z.string()),
  value: z.number(),
});
export type MetricSample = z.infer<typeof MetricSampleSchema>;
