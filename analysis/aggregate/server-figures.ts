/**
 * The server-side columns of the summary: counter and histogram deltas between
 * the `/metrics` scrapes before and after the window, and gauge samples taken
 * during it (pure: texts and samples in, columns out).
 */

import { SERVER_HISTOGRAMS } from "../../formats/agg-tables.ts";
import type { MetricSample } from "../../formats/raw-layout.ts";
import { VLLM_LEGACY_NAMES, VLLM_METRICS } from "../../formats/vllm-metrics.ts";
import { histogramDelta, histogramMean, histogramQuantile } from "./histogram-quantile.ts";
import { histogram, type PromSample, sumSeries } from "./prometheus-text.ts";

const COUNTERS = {
  server_requests: VLLM_METRICS.requestSuccess.name,
  server_prompt_tokens: VLLM_METRICS.promptTokens.name,
  server_generation_tokens: VLLM_METRICS.generationTokens.name,
  server_preemptions: VLLM_METRICS.numPreemptions.name,
} as const;

/** Counters appear as `<name>_total` in the exposition; accept the bare name too. */
function counter(samples: readonly PromSample[], name: string): number | null {
  return sumSeries(samples, `${name}_total`) ?? sumSeries(samples, name);
}

export function counterColumns(
  before: readonly PromSample[] | null,
  after: readonly PromSample[] | null,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [column, name] of Object.entries(COUNTERS)) {
    const a = after ? counter(after, name) : null;
    const b = before ? counter(before, name) : null;
    // Missing "before" (or a reset) leaves only "after": the window then starts at the server's start.
    out[column] = a === null ? null : b === null || a < b ? Math.round(a) : Math.round(a - b);
  }
  for (const [short, name] of Object.entries(SERVER_HISTOGRAMS)) {
    const a = after ? histogram(after, name) : null;
    const delta = a ? histogramDelta(before ? histogram(before, name) : null, a) : null;
    out[`server_${short}_mean`] = delta ? histogramMean(delta) : null;
    out[`server_${short}_p50`] = delta ? histogramQuantile(0.5, delta) : null;
    out[`server_${short}_p99`] = delta ? histogramQuantile(0.99, delta) : null;
  }
  return out;
}

const RUNNING = VLLM_METRICS.numRequestsRunning.name;
const WAITING = VLLM_METRICS.numRequestsWaiting.name;
/** vLLM renamed the KV-cache gauge; read both. */
const KV_CACHE = new Set<string>([
  VLLM_METRICS.kvCacheUsage.name,
  ...VLLM_LEGACY_NAMES.kvCacheUsage,
]);

/** Gauge samples → mean running/waiting (summed over series per scrape) and max KV-cache usage. */
export class GaugeFigures {
  private readonly perScrape = new Map<string, Map<number, number>>([
    [RUNNING, new Map()],
    [WAITING, new Map()],
  ]);
  private kvMax: number | null = null;

  add(sample: MetricSample): void {
    const scrapes = this.perScrape.get(sample.metric);
    if (scrapes) scrapes.set(sample.t_us, (scrapes.get(sample.t_us) ?? 0) + sample.value);
    if (KV_CACHE.has(sample.metric) && Number.isFinite(sample.value)) {
      this.kvMax = this.kvMax === null ? sample.value : Math.max(this.kvMax, sample.value);
    }
  }

  finish(): Record<string, number | null> {
    const mean = (name: string) => {
      const values = [...(this.perScrape.get(name)?.values() ?? [])];
      return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
    };
    return {
      server_running_mean: mean(RUNNING),
      server_waiting_mean: mean(WAITING),
      server_kv_cache_usage_max: this.kvMax,
    };
  }
}
