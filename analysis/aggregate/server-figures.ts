/**
 * The server-side columns of the summary: counter and histogram deltas between
 * the `/metrics` scrapes before and after the window, and gauge samples taken
 * during it (pure: parsed scrapes and samples in, columns and warnings out).
 */

import { SERVER_HISTOGRAMS } from "../../formats/agg-tables.ts";
import type { MetricSample } from "../../formats/raw-layout.ts";
import { VLLM_LEGACY_NAMES, VLLM_METRICS } from "../../formats/vllm-metrics.ts";
import { histogramDelta, histogramMean, histogramQuantile } from "./histogram-quantile.ts";
import type { Warn } from "./ndjson-lines.ts";
import { histogram, type PromSample, seriesKey, sumSeries } from "./prometheus-text.ts";

const COUNTERS = {
  server_requests: VLLM_METRICS.requestSuccess.name,
  server_prompt_tokens: VLLM_METRICS.promptTokens.name,
  server_generation_tokens: VLLM_METRICS.generationTokens.name,
  server_preemptions: VLLM_METRICS.numPreemptions.name,
  server_prefix_queries: VLLM_METRICS.prefixCacheQueries.name,
  server_prefix_hits: VLLM_METRICS.prefixCacheHits.name,
} as const;

/** One `/metrics` scrape file: its samples, or why it cannot be used. */
export type Scrape = SoundScrape | { file: string; problem: string /** 1-based */; line?: number };
interface SoundScrape {
  file: string;
  samples: readonly PromSample[];
  problem?: undefined;
}

/**
 * prometheus_client's process collector (vLLM's default registry on Linux):
 * a new value means a new server process, so every counter started again.
 */
const PROCESS_START = "process_start_time_seconds";

const LEFT_EMPTY = "server counter and histogram columns left empty";

/** The sample names that make up one metric: a counter as `<name>_total` (or bare), or a histogram. */
interface Tracked {
  name: string;
  columns: string[];
  sampleNames: Set<string>;
}

const TRACKED: Tracked[] = [
  ...Object.entries(COUNTERS).map(([column, name]) => ({
    name,
    columns: [column],
    sampleNames: new Set([`${name}_total`, name]),
  })),
  ...Object.entries(SERVER_HISTOGRAMS).map(([short, name]) => ({
    name,
    columns: ["mean", "p50", "p99"].map((stat) => `server_${short}_${stat}`),
    sampleNames: new Set([`${name}_bucket`, `${name}_count`, `${name}_sum`]),
  })),
];

/** Series key → value of the samples of `metric` in a scrape. */
function seriesOf(samples: readonly PromSample[], metric: Tracked): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) if (metric.sampleNames.has(s.name)) out.set(seriesKey(s), s.value);
  return out;
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf("/") + 1);
}

/**
 * Why the two scrapes do not bracket one window of one server process, or
 * null when they do. Counters only grow while a process lives, so a series
 * that went down means a restart (a counter reset) or scrapes in the wrong
 * order; `process_start_time_seconds`, when the server exposes it, tells
 * the two apart and also catches a restart after which the counters grew
 * past their old values.
 */
function pairProblem(before: readonly PromSample[], after: readonly PromSample[]): string | null {
  const startBefore = sumSeries(before, PROCESS_START);
  const startAfter = sumSeries(after, PROCESS_START);
  if (startBefore !== null && startAfter !== null && startBefore !== startAfter) {
    return `${PROCESS_START} changed (${startBefore} → ${startAfter}): the server restarted between the scrapes, so its counters were reset`;
  }
  for (const metric of TRACKED) {
    const prior = seriesOf(before, metric);
    for (const [key, value] of seriesOf(after, metric)) {
      const was = prior.get(key);
      if (was === undefined || value >= was) continue;
      return startBefore !== null && startBefore === startAfter
        ? `${key} went down (${was} → ${value}) though ${PROCESS_START} is unchanged: the scrapes are swapped or from different servers`
        : `${key} went down (${was} → ${value}): a counter reset (the server restarted) or swapped scrapes`;
    }
  }
  return null;
}

/**
 * Why `metric` has no usable delta although both scrapes are sound, or null.
 * vLLM creates every series of these metrics at start-up (one per model,
 * engine and finish reason), so both scrapes hold the same series; a series
 * in one only is the mark of a scrape cut at a line boundary, and its sum
 * would be a wrong delta.
 */
function seriesProblem(before: SoundScrape, after: SoundScrape, metric: Tracked): string | null {
  const series = [seriesOf(before.samples, metric), seriesOf(after.samples, metric)] as const;
  for (const [i, scrape] of [before, after].entries()) {
    const mine = series[i]!;
    const other = series[1 - i]!;
    const missing = [...other.keys()].filter((k) => !mine.has(k));
    if (missing.length === 0) continue;
    const what =
      mine.size === 0
        ? `no ${metric.name}`
        : `no ${missing[0]}${missing.length > 1 ? ` (and ${missing.length - 1} more series)` : ""}`;
    const otherFile = baseName((i === 0 ? after : before).file);
    return `${scrape.file}: ${what}, which ${otherFile} has (a truncated scrape?); ${metric.columns.join(", ")} left empty`;
  }
  return null;
}

/**
 * Counter and histogram deltas over the window. Only a sound pair of scrapes
 * gives them: a missing, unparsable or truncated scrape, or a reset between
 * them, leaves every column null with a `file: reason` warning, never the
 * server's lifetime totals.
 */
export function scrapeDeltaColumns(
  before: Scrape,
  after: Scrape,
  warn: Warn,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const metric of TRACKED) for (const column of metric.columns) out[column] = null;
  for (const scrape of [before, after]) {
    if (scrape.problem === undefined) continue;
    const where = scrape.line === undefined ? scrape.file : `${scrape.file}:${scrape.line}`;
    warn(`${where}: ${scrape.problem}; ${LEFT_EMPTY}`);
  }
  if (before.problem !== undefined || after.problem !== undefined) return out;
  const reset = pairProblem(before.samples, after.samples);
  if (reset !== null) {
    warn(`${after.file}: ${reset}; ${LEFT_EMPTY}`);
    return out;
  }
  const absent: string[] = [];
  for (const metric of TRACKED) {
    const problem = seriesProblem(before, after, metric);
    if (problem !== null) {
      warn(problem);
      continue;
    }
    if (metric.sampleNames.has(`${metric.name}_bucket`)) {
      const a = histogram(after.samples, metric.name);
      const b = histogram(before.samples, metric.name);
      if (!a || !b) {
        absent.push(metric.name);
        continue;
      }
      const delta = histogramDelta(b, a);
      const [mean, p50, p99] = metric.columns;
      out[mean!] = histogramMean(delta);
      out[p50!] = histogramQuantile(0.5, delta);
      out[p99!] = histogramQuantile(0.99, delta);
    } else {
      const total = (samples: readonly PromSample[]) =>
        sumSeries(samples, `${metric.name}_total`) ?? sumSeries(samples, metric.name);
      const a = total(after.samples);
      const b = total(before.samples);
      if (a === null || b === null) absent.push(metric.name);
      else out[metric.columns[0]!] = Math.round(a - b);
    }
  }
  if (absent.length > 0) {
    warn(`${after.file}: no ${absent.join(", ")} in either scrape; their columns left empty`);
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
