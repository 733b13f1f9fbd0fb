/**
 * The change of one metric between two sets of raw requests, with a
 * percentile bootstrap interval, pure. Latency percentiles resample the
 * requests themselves; throughput resamples time bins of the window (a block
 * bootstrap: requests finishing close together are not independent draws,
 * and resampling single requests would leave the count, hence the rate,
 * fixed). Each side is resampled independently; the change is B / A − 1.
 */
import { quantileSorted } from "../../stats/quantile.ts";
import { createRng, type Rng } from "../../stats/rng.ts";

/** One side's in-window, ok requests of one matched experiment set (repeats pooled). */
export interface SideSample {
  ttftMs: number[];
  tpotMs: number[];
  e2eMs: number[];
  /** Output tokens per second in each time bin of every repeat's window. */
  binRates: number[];
}

export type CompareMetric =
  | "output_tokens_per_s"
  | "ttft_ms_p50"
  | "ttft_ms_p99"
  | "tpot_ms_p50"
  | "tpot_ms_p99"
  | "e2e_ms_p50"
  | "e2e_ms_p99";

export const COMPARE_METRICS: readonly CompareMetric[] = [
  "output_tokens_per_s",
  "ttft_ms_p50",
  "ttft_ms_p99",
  "tpot_ms_p50",
  "tpot_ms_p99",
  "e2e_ms_p50",
  "e2e_ms_p99",
];

/** Whether a higher value is better (throughput) or worse (latency). */
export function higherIsBetter(metric: CompareMetric): boolean {
  return metric === "output_tokens_per_s";
}

export interface Change {
  a: number | null;
  b: number | null;
  /** B / A − 1; null when either side has no data. */
  change: number | null;
  low: number | null;
  high: number | null;
}

function percentileOf(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  return quantileSorted(Float64Array.from(values).sort(), q);
}

function statistic(metric: CompareMetric, s: SideSample): number | null {
  if (metric === "output_tokens_per_s") {
    if (s.binRates.length === 0) return null;
    return s.binRates.reduce((x, y) => x + y, 0) / s.binRates.length;
  }
  const [field, stat] = metric.split("_ms_") as [string, string];
  const values = field === "ttft" ? s.ttftMs : field === "tpot" ? s.tpotMs : s.e2eMs;
  return percentileOf(values, Number(stat.slice(1)) / 100);
}

function resample(values: readonly number[], rng: Rng): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[rng.int(values.length)] as number;
  return out;
}

function resampleSide(s: SideSample, rng: Rng): SideSample {
  return {
    ttftMs: resample(s.ttftMs, rng),
    tpotMs: resample(s.tpotMs, rng),
    e2eMs: resample(s.e2eMs, rng),
    binRates: resample(s.binRates, rng),
  };
}

/** Every metric's change with a 95% percentile interval from `replicates` bootstrap draws. */
export function bootstrapChanges(
  a: SideSample,
  b: SideSample,
  replicates: number,
  seed: number,
): Record<CompareMetric, Change> {
  const rng = createRng(seed, 0xc0de);
  const draws = new Map<CompareMetric, number[]>(COMPARE_METRICS.map((m) => [m, []]));
  for (let i = 0; i < replicates; i++) {
    const ra = resampleSide(a, rng);
    const rb = resampleSide(b, rng);
    for (const m of COMPARE_METRICS) {
      const x = statistic(m, ra);
      const y = statistic(m, rb);
      if (x !== null && y !== null && x > 0) draws.get(m)?.push(y / x - 1);
    }
  }
  const out = {} as Record<CompareMetric, Change>;
  for (const m of COMPARE_METRICS) {
    const x = statistic(m, a);
    const y = statistic(m, b);
    const d = draws.get(m) ?? [];
    out[m] = {
      a: x,
      b: y,
      change: x !== null && y !== null && x > 0 ? y / x - 1 : null,
      low: percentileOf(d, 0.025),
      high: percentileOf(d, 0.975),
    };
  }
  return out;
}

/**
 * A regression: the change is worse than `threshold` (a fraction) in the
 * metric's bad direction and its interval excludes no change, so noise alone
 * does not fail a CI job.
 */
export function isRegression(metric: CompareMetric, c: Change, threshold: number): boolean {
  if (c.change === null || c.low === null || c.high === null) return false;
  return higherIsBetter(metric)
    ? c.change < -threshold && c.high < 0
    : c.change > threshold && c.low > 0;
}
