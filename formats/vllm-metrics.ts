/**
 * vLLM's Prometheus metrics as data: the one place that spells their names,
 * types, labels and buckets. The simulator serves exactly this set, the
 * campaign's scraper samples its gauges and aggregation reads its counters
 * and histograms by these names.
 *
 * The set is the one vLLM v0.16.0 serves by default (no speculative decoding,
 * KV connector or LoRA; `--kv-cache-metrics` and VLLM_COMPUTE_NANS_IN_LOGITS
 * off), read from vllm/v1/metrics/loggers.py (`PrometheusStatLogger`) at tag
 * v0.16.0. Names are the Python ones: prometheus_client appends `_total` to a
 * counter's name in the exposition (`expositionName`).
 */

/** The vLLM release the simulator and these names follow. */
export const VLLM_RELEASE = {
  version: "0.16.0",
  tag: "v0.16.0",
  commit: "2d5be1dd5ce2e44dfea53ea03ff61143da5137eb",
} as const;

export const VLLM_PREFIX = "vllm:";

export type VllmMetricType = "counter" | "gauge" | "histogram";

/** Buckets: a list, or vLLM's `build_1_2_5_buckets(max_model_len)`. */
export type VllmBuckets = readonly number[] | "1-2-5 up to max_model_len";

export interface VllmMetricSpec {
  name: string;
  type: VllmMetricType;
  help: string;
  /** Label names besides `model_name` and `engine` (which every metric but cache_config_info has). */
  extraLabels: readonly string[];
  buckets?: VllmBuckets;
}

const LENGTH: VllmBuckets = "1-2-5 up to max_model_len";
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0, 160.0, 640.0, 2560.0,
] as const;
const TOKEN_LATENCY_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0,
] as const;
const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
  480.0, 960.0, 1920.0, 7680.0,
] as const;

const gauge = (name: string, help: string, extraLabels: readonly string[] = []) =>
  ({ name, type: "gauge", help, extraLabels }) as const satisfies VllmMetricSpec;
const counter = (name: string, help: string, extraLabels: readonly string[] = []) =>
  ({ name, type: "counter", help, extraLabels }) as const satisfies VllmMetricSpec;
const histogram = (name: string, help: string, buckets: VllmBuckets) =>
  ({ name, type: "histogram", help, extraLabels: [], buckets }) as const satisfies VllmMetricSpec;

/** In `PrometheusStatLogger.__init__`'s order. */
export const VLLM_METRICS = {
  numRequestsRunning: gauge(
    "vllm:num_requests_running",
    "Number of requests in model execution batches.",
  ),
  numRequestsWaiting: gauge(
    "vllm:num_requests_waiting",
    "Number of requests waiting to be processed.",
  ),
  engineSleepState: gauge(
    "vllm:engine_sleep_state",
    "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; " +
      "weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",
    ["sleep_state"],
  ),
  kvCacheUsage: gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."),
  prefixCacheQueries: counter(
    "vllm:prefix_cache_queries",
    "Prefix cache queries, in terms of number of queried tokens.",
  ),
  prefixCacheHits: counter(
    "vllm:prefix_cache_hits",
    "Prefix cache hits, in terms of number of cached tokens.",
  ),
  externalPrefixCacheQueries: counter(
    "vllm:external_prefix_cache_queries",
    "External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.",
  ),
  externalPrefixCacheHits: counter(
    "vllm:external_prefix_cache_hits",
    "External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.",
  ),
  mmCacheQueries: counter(
    "vllm:mm_cache_queries",
    "Multi-modal cache queries, in terms of number of queried items.",
  ),
  mmCacheHits: counter(
    "vllm:mm_cache_hits",
    "Multi-modal cache hits, in terms of number of cached items.",
  ),
  numPreemptions: counter(
    "vllm:num_preemptions",
    "Cumulative number of preemption from the engine.",
  ),
  promptTokens: counter("vllm:prompt_tokens", "Number of prefill tokens processed."),
  promptTokensBySource: counter(
    "vllm:prompt_tokens_by_source",
    "Number of prompt tokens by source.",
    ["source"],
  ),
  promptTokensCached: counter(
    "vllm:prompt_tokens_cached",
    "Number of cached prompt tokens (local + external).",
  ),
  promptTokensRecomputed: counter(
    "vllm:prompt_tokens_recomputed",
    "Number of cached tokens recomputed for forward pass.",
  ),
  generationTokens: counter("vllm:generation_tokens", "Number of generation tokens processed."),
  requestSuccess: counter("vllm:request_success", "Count of successfully processed requests.", [
    "finished_reason",
  ]),
  requestPromptTokens: histogram(
    "vllm:request_prompt_tokens",
    "Number of prefill tokens processed.",
    LENGTH,
  ),
  requestGenerationTokens: histogram(
    "vllm:request_generation_tokens",
    "Number of generation tokens processed.",
    LENGTH,
  ),
  iterationTokens: histogram(
    "vllm:iteration_tokens_total",
    "Histogram of number of tokens per engine_step.",
    [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
  ),
  requestMaxNumGenerationTokens: histogram(
    "vllm:request_max_num_generation_tokens",
    "Histogram of maximum number of requested generation tokens.",
    LENGTH,
  ),
  requestParamsN: histogram(
    "vllm:request_params_n",
    "Histogram of the n request parameter.",
    [1, 2, 5, 10, 20],
  ),
  requestParamsMaxTokens: histogram(
    "vllm:request_params_max_tokens",
    "Histogram of the max_tokens request parameter.",
    LENGTH,
  ),
  timeToFirstToken: histogram(
    "vllm:time_to_first_token_seconds",
    "Histogram of time to first token in seconds.",
    TTFT_BUCKETS,
  ),
  interTokenLatency: histogram(
    "vllm:inter_token_latency_seconds",
    "Histogram of inter-token latency in seconds.",
    TOKEN_LATENCY_BUCKETS,
  ),
  requestTimePerOutputToken: histogram(
    "vllm:request_time_per_output_token_seconds",
    "Histogram of time_per_output_token_seconds per request.",
    TOKEN_LATENCY_BUCKETS,
  ),
  e2eRequestLatency: histogram(
    "vllm:e2e_request_latency_seconds",
    "Histogram of e2e request latency in seconds.",
    REQUEST_LATENCY_BUCKETS,
  ),
  requestQueueTime: histogram(
    "vllm:request_queue_time_seconds",
    "Histogram of time spent in WAITING phase for request.",
    REQUEST_LATENCY_BUCKETS,
  ),
  requestInferenceTime: histogram(
    "vllm:request_inference_time_seconds",
    "Histogram of time spent in RUNNING phase for request.",
    REQUEST_LATENCY_BUCKETS,
  ),
  requestPrefillTime: histogram(
    "vllm:request_prefill_time_seconds",
    "Histogram of time spent in PREFILL phase for request.",
    REQUEST_LATENCY_BUCKETS,
  ),
  requestDecodeTime: histogram(
    "vllm:request_decode_time_seconds",
    "Histogram of time spent in DECODE phase for request.",
    REQUEST_LATENCY_BUCKETS,
  ),
  requestPrefillKvComputedTokens: histogram(
    "vllm:request_prefill_kv_computed_tokens",
    "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
    LENGTH,
  ),
  /** Labels: every CacheConfig field plus `engine` (`log_metrics_info`); no model_name. */
  cacheConfigInfo: gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig"),
} as const satisfies Record<string, VllmMetricSpec>;

export type VllmMetricKey = keyof typeof VLLM_METRICS;

/** Names older releases used, which readers still accept (vLLM ≤ 0.10: vllm:gpu_cache_usage_perc). */
export const VLLM_LEGACY_NAMES = {
  kvCacheUsage: ["vllm:gpu_cache_usage_perc"],
} as const satisfies Partial<Record<VllmMetricKey, readonly string[]>>;

/** The labels every per-engine metric carries (`labelnames` in loggers.py). */
export const VLLM_BASE_LABELS = ["model_name", "engine"] as const;

/** `FINISH_REASON_STRINGS` (vllm/v1/engine/__init__.py): one request_success series each. */
export const VLLM_FINISH_REASONS = ["stop", "length", "abort", "error"] as const;

/** `PromptTokenStats.ALL_SOURCES` (vllm/v1/metrics/stats.py). */
export const VLLM_PROMPT_TOKEN_SOURCES = [
  "local_compute",
  "local_cache_hit",
  "external_kv_transfer",
] as const;

/** The sleep_state label values (`PrometheusStatLogger.__init__`). */
export const VLLM_SLEEP_STATES = ["awake", "weights_offloaded", "discard_all"] as const;

/**
 * `CacheConfig`'s fields in declaration order (vllm/config/cache.py):
 * `metrics_info()` turns `__dict__` into the cache_config_info labels.
 */
export const VLLM_CACHE_CONFIG_FIELDS = [
  "block_size",
  "gpu_memory_utilization",
  "swap_space",
  "cache_dtype",
  "is_attention_free",
  "num_gpu_blocks_override",
  "sliding_window",
  "enable_prefix_caching",
  "prefix_caching_hash_algo",
  "cpu_offload_gb",
  "calculate_kv_scales",
  "cpu_kvcache_space_bytes",
  "mamba_page_size_padded",
  "mamba_block_size",
  "mamba_cache_dtype",
  "mamba_ssm_cache_dtype",
  "mamba_cache_mode",
  "num_gpu_blocks",
  "num_cpu_blocks",
  "kv_sharing_fast_prefill",
  "kv_cache_memory_bytes",
  "kv_offloading_size",
  "kv_offloading_backend",
] as const;
export type VllmCacheConfigField = (typeof VLLM_CACHE_CONFIG_FIELDS)[number];

/** The family name in the text exposition: prometheus_client appends `_total` to counters. */
export function expositionName(spec: VllmMetricSpec): string {
  return spec.type === "counter" ? `${spec.name}_total` : spec.name;
}

/** vLLM's `build_1_2_5_buckets(max)`: 1, 2, 5, 10, 20, 50, … up to `max`. */
export function build125Buckets(max: number): number[] {
  const buckets: number[] = [];
  for (let exponent = 0; ; exponent++) {
    for (const m of [1, 2, 5]) {
      const value = m * 10 ** exponent;
      if (value > max) return buckets;
      buckets.push(value);
    }
  }
}

/** A histogram's bucket bounds for a server with this max_model_len. */
export function bucketsOf(spec: VllmMetricSpec, maxModelLen: number): number[] {
  const buckets = spec.buckets;
  if (buckets === undefined) return [];
  return typeof buckets === "string" ? build125Buckets(maxModelLen) : [...buckets];
}
