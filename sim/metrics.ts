/**
 * Prometheus metrics under vLLM V1's names, types, labels and buckets
 * (vllm/v1/metrics/loggers.py, `PrometheusStatLogger`): labels `model_name`
 * and `engine` (the DP replica index). Python's client appends `_total` to
 * counters; prom-client does not, so counter names carry it explicitly and
 * the exposition text matches what vLLM serves.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { FinishReason, Sequence, StepOutcome, StepPlan } from "./engine/scheduler.ts";
import { WeightedHistogram } from "./weighted-histogram.ts";

const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0, 160.0, 640.0, 2560.0,
];
const TPOT_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0,
];
const PREFILL_TOKEN_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0];
const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
  480.0, 960.0, 1920.0, 7680.0,
];
const ITERATION_TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
const FINISH_REASONS: FinishReason[] = ["stop", "length", "abort"];

/** vLLM's `build_1_2_5_buckets`: 1, 2, 5, 10, 20, 50, … up to `max`. */
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

type Labels = "model_name" | "engine";

export class SimMetrics {
  readonly registry = new Registry();
  private readonly model: string;
  private readonly running: Gauge<Labels>;
  private readonly waiting: Gauge<Labels>;
  private readonly kvUsage: Gauge<Labels>;
  private readonly gpuCacheUsage: Gauge<Labels>;
  private readonly prefixQueries: Counter<Labels>;
  private readonly prefixHits: Counter<Labels>;
  private readonly gpuPrefixQueries: Counter<Labels>;
  private readonly gpuPrefixHits: Counter<Labels>;
  private readonly preemptions: Counter<Labels>;
  private readonly promptTokens: Counter<Labels>;
  private readonly generationTokens: Counter<Labels>;
  private readonly requestSuccess: Counter<Labels | "finished_reason">;
  private readonly promptTokensRequest: Histogram<Labels>;
  private readonly generationTokensRequest: Histogram<Labels>;
  private readonly maxTokensRequest: Histogram<Labels>;
  private readonly nRequest: Histogram<Labels>;
  private readonly iterationTokens: Histogram<Labels>;
  private readonly ttft: Histogram<Labels>;
  private readonly tpot: WeightedHistogram;
  private readonly itl: WeightedHistogram;
  private readonly prefillPerToken: Histogram<Labels>;
  private readonly e2e: Histogram<Labels>;
  private readonly queue: Histogram<Labels>;
  private readonly inference: Histogram<Labels>;
  private readonly prefill: Histogram<Labels>;
  private readonly decode: Histogram<Labels>;
  /** Engine label value per replica. */
  private readonly engines: string[];
  private readonly labelSets: { model_name: string; engine: string }[];
  /**
   * Inter-token gaps not yet in the histograms, per replica, run-length encoded:
   * a step's tokens mostly share one gap, so a step costs one observation.
   */
  private readonly pendingGap: { gapS: number; count: number }[];

  constructor(
    modelName: string,
    replicas: number,
    maxModelLen: number,
    cacheInfo: Record<string, string>,
  ) {
    this.model = modelName;
    this.engines = Array.from({ length: replicas }, (_, i) => String(i));
    this.labelSets = this.engines.map((engine) => ({ model_name: modelName, engine }));
    this.pendingGap = this.engines.map(() => ({ gapS: 0, count: 0 }));
    const registers = [this.registry];
    const labelNames: Labels[] = ["model_name", "engine"];
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames, registers });
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames, registers });
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, labelNames, buckets, registers });
    const lengthBuckets = build125Buckets(maxModelLen);

    this.running = gauge(
      "vllm:num_requests_running",
      "Number of requests in model execution batches.",
    );
    this.waiting = gauge(
      "vllm:num_requests_waiting",
      "Number of requests waiting to be processed.",
    );
    this.gpuCacheUsage = gauge(
      "vllm:gpu_cache_usage_perc",
      "GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use vllm:kv_cache_usage_perc instead.",
    );
    this.kvUsage = gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.");
    this.gpuPrefixQueries = counter(
      "vllm:gpu_prefix_cache_queries_total",
      "GPU prefix cache queries, in terms of number of queried tokens. DEPRECATED: Use vllm:prefix_cache_queries instead.",
    );
    this.gpuPrefixHits = counter(
      "vllm:gpu_prefix_cache_hits_total",
      "GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use vllm:prefix_cache_hits instead.",
    );
    this.prefixQueries = counter(
      "vllm:prefix_cache_queries_total",
      "Prefix cache queries, in terms of number of queried tokens.",
    );
    this.prefixHits = counter(
      "vllm:prefix_cache_hits_total",
      "Prefix cache hits, in terms of number of cached tokens.",
    );
    this.preemptions = counter(
      "vllm:num_preemptions_total",
      "Cumulative number of preemption from the engine.",
    );
    this.promptTokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.");
    this.generationTokens = counter(
      "vllm:generation_tokens_total",
      "Number of generation tokens processed.",
    );
    this.requestSuccess = new Counter({
      name: "vllm:request_success_total",
      help: "Count of successfully processed requests.",
      labelNames: ["model_name", "engine", "finished_reason"],
      registers,
    });
    this.promptTokensRequest = histogram(
      "vllm:request_prompt_tokens",
      "Number of prefill tokens processed.",
      lengthBuckets,
    );
    this.generationTokensRequest = histogram(
      "vllm:request_generation_tokens",
      "Number of generation tokens processed.",
      lengthBuckets,
    );
    this.iterationTokens = histogram(
      "vllm:iteration_tokens_total",
      "Histogram of number of tokens per engine_step.",
      ITERATION_TOKEN_BUCKETS,
    );
    this.nRequest = histogram(
      "vllm:request_params_n",
      "Histogram of the n request parameter.",
      [1, 2, 5, 10, 20],
    );
    this.maxTokensRequest = histogram(
      "vllm:request_params_max_tokens",
      "Histogram of the max_tokens request parameter.",
      lengthBuckets,
    );
    this.ttft = histogram(
      "vllm:time_to_first_token_seconds",
      "Histogram of time to first token in seconds.",
      TTFT_BUCKETS,
    );
    this.tpot = new WeightedHistogram(
      "vllm:time_per_output_token_seconds",
      "Histogram of time per output token in seconds.",
      TPOT_BUCKETS,
      this.labelSets,
      this.registry,
    );
    // Newer vLLM releases expose the same per-token gaps under this name.
    this.itl = new WeightedHistogram(
      "vllm:inter_token_latency_seconds",
      "Histogram of inter-token latency in seconds.",
      TPOT_BUCKETS,
      this.labelSets,
      this.registry,
    );
    this.prefillPerToken = histogram(
      "vllm:time_per_prefill_token_request_seconds",
      "Time spent per token during prefill  phase in seconds",
      PREFILL_TOKEN_BUCKETS,
    );
    this.e2e = histogram(
      "vllm:e2e_request_latency_seconds",
      "Histogram of e2e request latency in seconds.",
      REQUEST_LATENCY_BUCKETS,
    );
    this.queue = histogram(
      "vllm:request_queue_time_seconds",
      "Histogram of time spent in WAITING phase for request.",
      REQUEST_LATENCY_BUCKETS,
    );
    this.inference = histogram(
      "vllm:request_inference_time_seconds",
      "Histogram of time spent in RUNNING phase for request.",
      REQUEST_LATENCY_BUCKETS,
    );
    this.prefill = histogram(
      "vllm:request_prefill_time_seconds",
      "Histogram of time spent in PREFILL phase for request.",
      REQUEST_LATENCY_BUCKETS,
    );
    this.decode = histogram(
      "vllm:request_decode_time_seconds",
      "Histogram of time spent in DECODE phase for request.",
      REQUEST_LATENCY_BUCKETS,
    );
    const cacheInfoGauge = new Gauge({
      name: "vllm:cache_config_info",
      help: "Information of the LLMEngine CacheConfig",
      labelNames: [...Object.keys(cacheInfo), "engine"],
      registers,
    });
    for (const engine of this.engines) {
      cacheInfoGauge.labels({ ...cacheInfo, engine }).set(1);
      // Zero-valued series exist from the start, as in vLLM (scrapers diff before/after).
      const labels = { model_name: this.model, engine };
      for (const metric of [this.running, this.waiting, this.kvUsage, this.gpuCacheUsage])
        metric.labels(labels).set(0);
      for (const metric of [
        this.prefixQueries,
        this.prefixHits,
        this.gpuPrefixQueries,
        this.gpuPrefixHits,
        this.preemptions,
        this.promptTokens,
        this.generationTokens,
      ])
        metric.labels(labels).inc(0);
      for (const reason of FINISH_REASONS)
        this.requestSuccess.labels({ ...labels, finished_reason: reason }).inc(0);
    }
  }

  private labels(replica: number) {
    return (
      this.labelSets[replica] ?? {
        model_name: this.model,
        engine: this.engines[replica] ?? String(replica),
      }
    );
  }

  /** Scheduler state after a step (gauges). */
  recordState(replica: number, running: number, waiting: number, kvUsage: number): void {
    const labels = this.labels(replica);
    this.running.labels(labels).set(running);
    this.waiting.labels(labels).set(waiting);
    this.kvUsage.labels(labels).set(kvUsage);
    this.gpuCacheUsage.labels(labels).set(kvUsage);
  }

  /** Per-step counters and per-token latencies; times are in ms. */
  recordStep(replica: number, plan: StepPlan, outcome: StepOutcome): void {
    const labels = this.labels(replica);
    if (plan.prefixQueries > 0) {
      this.prefixQueries.labels(labels).inc(plan.prefixQueries);
      this.gpuPrefixQueries.labels(labels).inc(plan.prefixQueries);
      this.prefixHits.labels(labels).inc(plan.prefixHits);
      this.gpuPrefixHits.labels(labels).inc(plan.prefixHits);
    }
    if (plan.preempted > 0) this.preemptions.labels(labels).inc(plan.preempted);
    if (outcome.promptTokens > 0) this.promptTokens.labels(labels).inc(outcome.promptTokens);
    if (outcome.generationTokens > 0)
      this.generationTokens.labels(labels).inc(outcome.generationTokens);
    const scheduled = plan.batch.prefillTokens + plan.batch.decodeSeqs;
    if (scheduled > 0) this.iterationTokens.labels(labels).observe(scheduled);
  }

  /** Time to first token (from arrival) and gaps between tokens. */
  recordToken(
    replica: number,
    seq: Sequence,
    index: number,
    previousTokenMs: number | undefined,
    nowMs: number,
  ): void {
    if (index === 0) this.ttft.labels(this.labels(replica)).observe((nowMs - seq.arrivalMs) / 1000);
    else if (previousTokenMs !== undefined) {
      const gapS = (nowMs - previousTokenMs) / 1000;
      const pending = this.pendingGap[replica];
      if (!pending) return;
      if (pending.count > 0 && pending.gapS !== gapS) this.flushGaps(replica);
      pending.gapS = gapS;
      pending.count++;
    }
  }

  private flushGaps(replica: number): void {
    const pending = this.pendingGap[replica];
    if (!pending || pending.count === 0) return;
    this.tpot.observe(replica, pending.gapS, pending.count);
    this.itl.observe(replica, pending.gapS, pending.count);
    pending.count = 0;
  }

  /** A finished request: success counter by reason and the per-request histograms. */
  recordFinished(replica: number, seq: Sequence, maxTokensParam: number | undefined): void {
    const labels = this.labels(replica);
    const reason = seq.finishReason ?? "abort";
    this.requestSuccess.labels({ ...labels, finished_reason: reason }).inc();
    const end = seq.finishedMs ?? seq.arrivalMs;
    const scheduled = seq.firstScheduledMs ?? end;
    const firstToken = seq.firstTokenMs ?? end;
    const s = (ms: number) => Math.max(0, ms) / 1000;
    this.e2e.labels(labels).observe(s(end - seq.arrivalMs));
    this.queue.labels(labels).observe(s(scheduled - seq.arrivalMs));
    this.prefill.labels(labels).observe(s(firstToken - scheduled));
    if (seq.promptLen > 0)
      this.prefillPerToken.labels(labels).observe(s(firstToken - scheduled) / seq.promptLen);
    this.inference.labels(labels).observe(s(end - scheduled));
    this.decode.labels(labels).observe(s(end - firstToken));
    this.promptTokensRequest.labels(labels).observe(seq.promptLen);
    this.generationTokensRequest.labels(labels).observe(seq.numOutput);
    this.nRequest.labels(labels).observe(1);
    if (maxTokensParam !== undefined) this.maxTokensRequest.labels(labels).observe(maxTokensParam);
  }

  text(): Promise<string> {
    for (let replica = 0; replica < this.pendingGap.length; replica++) this.flushGaps(replica);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
