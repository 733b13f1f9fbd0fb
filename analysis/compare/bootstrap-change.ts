/**
 * The change of one figure between two sides of a matched experiment set,
 * B / A − 1, with a 95% percentile interval from a hierarchical bootstrap,
 * pure. The run is the unit of replication:
 * - With at least two runs on each side, runs are resampled: throughput (a
 *   per-run quantity) from the runs alone; latency percentiles from the runs,
 *   then the requests within each resampled run, pooled.
 * - With one run on either side, no run-to-run variance can be seen. The
 *   interval then comes from within the runs (time bins for throughput, a
 *   block bootstrap; requests for percentiles) and says so: it describes
 *   that run's sampling noise only, so the verdict also needs the measured
 *   noise floor (noise-floor.ts).
 * Each side is resampled independently with one seeded generator.
 */
import { quantileSorted } from "../../stats/quantile.ts";
import { createRng, type Rng } from "../../stats/rng.ts";

/** One run (one repeat of a matched experiment set): its in-window figures. */
export interface RunSample {
  /** Latency values of the run's measured requests, ms. */
  ttftMs: number[];
  tpotMs: number[];
  e2eMs: number[];
  /** Output tokens per second over the run's window: the run's throughput. */
  outputTokensPerS: number;
  /** Output tokens/s in equal time bins of the window; their mean is `outputTokensPerS`. */
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

/**
 * Fewest pooled requests a side needs for a percentile: about five values
 * beyond it (p99 from 100, p50 from 20), below which the percentile is one
 * or two requests' value and its change is noise.
 */
export const MIN_REQUESTS = { 50: 20, 99: 100 } as const;

/** How an interval was made. */
export type IntervalMethod =
  | "runs"
  | "runs, then requests"
  | "time bins within runs"
  | "requests within runs";

/** Whether a higher value is better (throughput) or worse (latency). */
export function higherIsBetter(metric: CompareMetric): boolean {
  return metric === "output_tokens_per_s";
}

export interface Change {
  a: number | null;
  b: number | null;
  /** B / A − 1; null when either side has no figure. */
  change: number | null;
  low: number | null;
  high: number | null;
  method: IntervalMethod;
  /** Runs on each side. */
  runsA: number;
  runsB: number;
  /** Values behind the figure on each side: requests (percentiles), runs or time bins (throughput). */
  nA: number;
  nB: number;
  /** Why a figure is null (too few requests), or null. */
  flag: string | null;
}

type Field = "ttftMs" | "tpotMs" | "e2eMs";

function parse(metric: CompareMetric): { field: Field; q: 50 | 99 } | null {
  if (metric === "output_tokens_per_s") return null;
  const [name, stat] = metric.split("_ms_") as [string, string];
  const field: Field = name === "ttft" ? "ttftMs" : name === "tpot" ? "tpotMs" : "e2eMs";
  return { field, q: Number(stat.slice(1)) as 50 | 99 };
}

function percentile(values: Float64Array, q: number): number {
  return quantileSorted(values.sort(), q);
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function pick<T>(items: readonly T[], rng: Rng): T {
  return items[rng.int(items.length)] as T;
}

/** A side's figure from its runs (no resampling). */
function figure(metric: CompareMetric, runs: readonly RunSample[]): number | null {
  const p = parse(metric);
  if (p === null) return runs.length === 0 ? null : mean(runs.map((r) => r.outputTokensPerS));
  const pooled = runs.flatMap((r) => r[p.field]);
  if (pooled.length < MIN_REQUESTS[p.q]) return null;
  return percentile(Float64Array.from(pooled), p.q / 100);
}

/**
 * One bootstrap replicate of a side's figure. `byRuns`: draw runs with
 * replacement first; then (percentiles, or throughput without runs to draw)
 * draw the values within each run.
 */
function replicate(
  metric: CompareMetric,
  runs: readonly RunSample[],
  byRuns: boolean,
  rng: Rng,
): number {
  const drawn = byRuns ? runs.map(() => pick(runs, rng)) : runs;
  const p = parse(metric);
  if (p === null) {
    if (byRuns) return mean(drawn.map((r) => r.outputTokensPerS));
    let sum = 0;
    for (const r of drawn) {
      let bins = 0;
      for (let i = 0; i < r.binRates.length; i++) bins += pick(r.binRates, rng);
      sum += bins / r.binRates.length;
    }
    return sum / drawn.length;
  }
  let total = 0;
  for (const r of drawn) total += r[p.field].length;
  const out = new Float64Array(total);
  let k = 0;
  for (const r of drawn) {
    const values = r[p.field];
    for (let i = 0; i < values.length; i++) out[k++] = pick(values, rng);
  }
  return percentile(out, p.q / 100);
}

function methodOf(metric: CompareMetric, byRuns: boolean): IntervalMethod {
  const throughput = metric === "output_tokens_per_s";
  if (byRuns) return throughput ? "runs" : "runs, then requests";
  return throughput ? "time bins within runs" : "requests within runs";
}

function sizeOf(metric: CompareMetric, runs: readonly RunSample[], byRuns: boolean): number {
  const p = parse(metric);
  if (p === null && byRuns) return runs.length;
  return runs.reduce((n, r) => n + (p === null ? r.binRates.length : r[p.field].length), 0);
}

/** Whether the runs themselves can be resampled: at least two on each side. */
export function resamplesRuns(runsA: number, runsB: number): boolean {
  return runsA >= 2 && runsB >= 2;
}

/** Every figure's change with a 95% percentile interval from `replicates` draws. */
export function bootstrapChanges(
  a: readonly RunSample[],
  b: readonly RunSample[],
  replicates: number,
  seed: number,
): Record<CompareMetric, Change> {
  const byRuns = resamplesRuns(a.length, b.length);
  const out = {} as Record<CompareMetric, Change>;
  for (const [i, metric] of COMPARE_METRICS.entries()) {
    // One stream per figure: adding a figure never changes another's interval.
    const rng = createRng(seed, 0xc0de + i);
    const x = figure(metric, a);
    const y = figure(metric, b);
    const base = {
      method: methodOf(metric, byRuns),
      runsA: a.length,
      runsB: b.length,
      nA: sizeOf(metric, a, byRuns),
      nB: sizeOf(metric, b, byRuns),
    };
    if (x === null || y === null || x <= 0) {
      const p = parse(metric);
      const flag =
        p !== null && (base.nA < MIN_REQUESTS[p.q] || base.nB < MIN_REQUESTS[p.q])
          ? `fewer than ${MIN_REQUESTS[p.q]} requests on a side`
          : "no data on a side";
      out[metric] = { a: x, b: y, change: null, low: null, high: null, ...base, flag };
      continue;
    }
    const draws = new Float64Array(replicates);
    for (let r = 0; r < replicates; r++) {
      draws[r] = replicate(metric, b, byRuns, rng) / replicate(metric, a, byRuns, rng) - 1;
    }
    draws.sort();
    out[metric] = {
      a: x,
      b: y,
      change: y / x - 1,
      low: quantileSorted(draws, 0.025),
      high: quantileSorted(draws, 0.975),
      ...base,
      flag: null,
    };
  }
  return out;
}
