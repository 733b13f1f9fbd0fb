/**
 * The simulator's `/metrics`: exactly the metric set of the pinned vLLM
 * release (formats/vllm-metrics.ts), recorded as vLLM V1 records them
 * (vllm/v1/metrics/loggers.py `PrometheusStatLogger.record`, fed by
 * vllm/v1/metrics/stats.py `IterationStats`): labels `model_name` and
 * `engine` (the DP replica), every series present at zero from the start
 * (`make_per_engine`), times in seconds.
 */
import {
  bucketsOf,
  expositionName,
  VLLM_FINISH_REASONS,
  VLLM_METRICS,
  VLLM_PROMPT_TOKEN_SOURCES,
  VLLM_SLEEP_STATES,
  type VllmCacheConfigField,
  type VllmMetricKey,
  type VllmMetricSpec,
} from "../formats/vllm-metrics.ts";
import type { Sequence, StepOutcome, StepPlan } from "./engine/scheduler.ts";
import type { ResolvedSim } from "./options.ts";
import {
  type HistogramSeries,
  PromRegistry,
  pythonFloatRepr,
  type ValueSeries,
} from "./prom-registry.ts";

type CounterKey = {
  [K in VllmMetricKey]: (typeof VLLM_METRICS)[K]["type"] extends "counter" ? K : never;
}[VllmMetricKey];
type HistogramKey = {
  [K in VllmMetricKey]: (typeof VLLM_METRICS)[K]["type"] extends "histogram" ? K : never;
}[VllmMetricKey];
type PlainGaugeKey = "numRequestsRunning" | "numRequestsWaiting" | "kvCacheUsage";
type PlainCounterKey = Exclude<CounterKey, "promptTokensBySource" | "requestSuccess">;

interface EngineSeries {
  gauge: Record<PlainGaugeKey, ValueSeries>;
  counter: Record<PlainCounterKey, ValueSeries>;
  bySource: Record<(typeof VLLM_PROMPT_TOKEN_SOURCES)[number], ValueSeries>;
  success: Record<(typeof VLLM_FINISH_REASONS)[number], ValueSeries>;
  histogram: Record<HistogramKey, HistogramSeries>;
  /** Inter-token gaps not yet observed, run-length encoded (a step's tokens share one gap). */
  pendingGap: { gapS: number; count: number };
}

export class SimMetrics {
  readonly registry = new PromRegistry();
  private readonly engines: EngineSeries[] = [];

  constructor(
    modelName: string,
    replicas: number,
    maxModelLen: number,
    cacheConfig: Record<VllmCacheConfigField, string>,
  ) {
    const registry = this.registry;
    const families = new Map<VllmMetricKey, ReturnType<PromRegistry["family"]>>();
    for (const [key, spec] of Object.entries(VLLM_METRICS) as [VllmMetricKey, VllmMetricSpec][])
      families.set(key, registry.family(expositionName(spec), spec.type, spec.help));
    const family = (key: VllmMetricKey) => families.get(key) as ReturnType<PromRegistry["family"]>;
    for (let replica = 0; replica < replicas; replica++) {
      const labels = { model_name: modelName, engine: String(replica) };
      const value = (key: VllmMetricKey, extra: Record<string, string> = {}) =>
        registry.value(family(key), { ...labels, ...extra });
      const gauge = {} as EngineSeries["gauge"];
      const counter = {} as EngineSeries["counter"];
      const histogram = {} as EngineSeries["histogram"];
      const bySource = {} as EngineSeries["bySource"];
      const success = {} as EngineSeries["success"];
      for (const key of Object.keys(VLLM_METRICS) as VllmMetricKey[]) {
        const spec: VllmMetricSpec = VLLM_METRICS[key];
        if (key === "engineSleepState") {
          // The engine never sleeps here: awake = 1 (`record_sleep_state()` defaults).
          for (const state of VLLM_SLEEP_STATES)
            value(key, { sleep_state: state }).set(state === "awake" ? 1 : 0);
        } else if (key === "cacheConfigInfo") {
          registry.value(family(key), { ...cacheConfig, engine: String(replica) }).set(1);
        } else if (key === "promptTokensBySource") {
          for (const source of VLLM_PROMPT_TOKEN_SOURCES) bySource[source] = value(key, { source });
        } else if (key === "requestSuccess") {
          for (const reason of VLLM_FINISH_REASONS)
            success[reason] = value(key, { finished_reason: reason });
        } else if (spec.type === "histogram") {
          histogram[key as HistogramKey] = registry.histogram(
            family(key),
            labels,
            bucketsOf(spec, maxModelLen),
          );
        } else if (spec.type === "counter") counter[key as PlainCounterKey] = value(key);
        else gauge[key as PlainGaugeKey] = value(key);
      }
      this.engines.push({
        gauge,
        counter,
        bySource,
        success,
        histogram,
        pendingGap: { gapS: 0, count: 0 },
      });
    }
  }

  private of(replica: number): EngineSeries {
    return this.engines[replica] as EngineSeries;
  }

  /** Scheduler state after a step (gauges). */
  recordState(replica: number, running: number, waiting: number, kvUsage: number): void {
    const { gauge } = this.of(replica);
    gauge.numRequestsRunning.set(running);
    gauge.numRequestsWaiting.set(waiting);
    gauge.kvCacheUsage.set(kvUsage);
  }

  /**
   * Per-step counters. `iteration_tokens_total` observes the step's prompt
   * tokens (of requests whose prefill finished) plus its new tokens, and only
   * for steps with outputs (async_llm.py makes IterationStats only then).
   */
  recordStep(replica: number, plan: StepPlan, outcome: StepOutcome): void {
    const { counter, histogram } = this.of(replica);
    counter.prefixCacheQueries.inc(plan.prefixQueries);
    counter.prefixCacheHits.inc(plan.prefixHits);
    counter.numPreemptions.inc(plan.preempted);
    counter.promptTokens.inc(outcome.promptTokens);
    counter.generationTokens.inc(outcome.generationTokens);
    if (outcome.tokens.length > 0)
      histogram.iterationTokens.observe(outcome.promptTokens + outcome.generationTokens);
  }

  /**
   * A new token: the first one gives TTFT (from arrival) and the prompt-token
   * breakdown (`PromptTokenStats.update_from_output`); later ones an inter-token gap.
   */
  recordToken(
    replica: number,
    seq: Sequence,
    index: number,
    previousTokenMs: number | undefined,
    nowMs: number,
  ): void {
    const series = this.of(replica);
    if (index === 0) {
      series.histogram.timeToFirstToken.observe((nowMs - seq.arrivalMs) / 1000);
      const cached = seq.numCachedTokens;
      // A fully cached prompt still computes its last token (stats.py: `recomputed`).
      const recomputed = cached + 1 === seq.promptLen ? 1 : 0;
      series.bySource.local_compute.inc(seq.promptLen - cached);
      series.bySource.local_cache_hit.inc(cached + recomputed);
      series.counter.promptTokensCached.inc(cached);
      series.counter.promptTokensRecomputed.inc(recomputed);
      return;
    }
    if (previousTokenMs === undefined) return;
    const gapS = (nowMs - previousTokenMs) / 1000;
    const pending = series.pendingGap;
    if (pending.count > 0 && pending.gapS !== gapS) this.flushGaps(series);
    pending.gapS = gapS;
    pending.count++;
  }

  private flushGaps(series: EngineSeries): void {
    const pending = series.pendingGap;
    if (pending.count === 0) return;
    series.histogram.interTokenLatency.observe(pending.gapS, pending.count);
    pending.count = 0;
  }

  /**
   * A request the engine finished (stop, length): `update_from_finished_request`.
   * Client aborts are not recorded, as vLLM's `OutputProcessor.abort_requests`
   * finishes them without stats.
   */
  recordFinished(replica: number, seq: Sequence, maxTokensParam: number | undefined): void {
    const { success, histogram } = this.of(replica);
    const reason = seq.finishReason ?? "abort";
    success[reason].inc();
    const end = seq.finishedMs ?? seq.arrivalMs;
    const scheduled = seq.firstScheduledMs ?? end;
    const firstToken = seq.firstTokenMs ?? end;
    const lastToken = seq.lastTokenMs ?? end;
    const s = (ms: number) => Math.max(0, ms) / 1000;
    const decodeS = s(lastToken - firstToken);
    histogram.e2eRequestLatency.observe(s(end - seq.arrivalMs));
    histogram.requestQueueTime.observe(s(scheduled - seq.arrivalMs));
    histogram.requestPrefillTime.observe(s(firstToken - scheduled));
    histogram.requestInferenceTime.observe(s(lastToken - scheduled));
    histogram.requestDecodeTime.observe(decodeS);
    histogram.requestPrefillKvComputedTokens.observe(seq.promptLen - seq.numCachedTokens);
    histogram.requestPromptTokens.observe(seq.promptLen);
    histogram.requestGenerationTokens.observe(seq.numOutput);
    histogram.requestTimePerOutputToken.observe(
      seq.numOutput > 1 ? decodeS / (seq.numOutput - 1) : 0,
    );
    // n = 1: the "max over the parallel samples" is this request's own count (parallel_sampling.py).
    histogram.requestMaxNumGenerationTokens.observe(seq.numOutput);
    histogram.requestParamsN.observe(1);
    if (maxTokensParam) histogram.requestParamsMaxTokens.observe(maxTokensParam);
  }

  text(): Promise<string> {
    for (const series of this.engines) this.flushGaps(series);
    return Promise.resolve(this.registry.text());
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The cache_config_info labels: `{key: str(value)}` over CacheConfig's
 * `__dict__` (vllm/config/cache.py `metrics_info`), so Python's spellings:
 * `True`, `None`, `0.9`. Fields the simulator does not model keep vLLM's
 * defaults as `vllm serve` leaves them.
 */
export function cacheConfigLabels(sim: ResolvedSim): Record<VllmCacheConfigField, string> {
  const py = (value: boolean | number | string | undefined) =>
    value === undefined
      ? "None"
      : typeof value === "boolean"
        ? value
          ? "True"
          : "False"
        : String(value);
  return {
    block_size: py(sim.blockSize),
    gpu_memory_utilization: pythonFloatRepr(sim.gpuMemoryUtilization),
    swap_space: "4",
    cache_dtype: sim.kvCacheDtype,
    is_attention_free: "False",
    num_gpu_blocks_override: py(sim.numGpuBlocksOverride),
    sliding_window: "None",
    enable_prefix_caching: py(sim.enablePrefixCaching),
    prefix_caching_hash_algo: "sha256",
    cpu_offload_gb: "0",
    calculate_kv_scales: "False",
    cpu_kvcache_space_bytes: "None",
    mamba_page_size_padded: "None",
    mamba_block_size: "None",
    mamba_cache_dtype: "auto",
    mamba_ssm_cache_dtype: "auto",
    mamba_cache_mode: "none",
    num_gpu_blocks: py(sim.numGpuBlocks),
    num_cpu_blocks: "None",
    kv_sharing_fast_prefill: "False",
    kv_cache_memory_bytes: "None",
    kv_offloading_size: "None",
    kv_offloading_backend: "native",
  };
}
