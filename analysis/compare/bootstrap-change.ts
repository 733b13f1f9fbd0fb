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

/** A side's figure from its runs (no resampling): mean run throughput, or the pooled percentile. */
export function sideFigure(metric: CompareMetric, runs: readonly RunSample[]): number | null {
  const p = parse(metric);
  if (p === null) return runs.length === 0 ? null : mean(runs.map((r) => r.outputTokensPerS));
  const pooled = runs.flatMap((r) => r[p.field]);
  if (pooled.length < MIN_REQUESTS[p.q]) return null;
  return percentile(Float64Array.from(pooled), p.q / 100);
}

/** One bootstrap replicate of a side's throughput: runs drawn with replacement, or time bins within each run. */
function replicateThroughput(runs: readonly RunSample[], byRuns: boolean, rng: Rng): number {
  if (byRuns) {
    let sum = 0;
    for (let i = 0; i < runs.length; i++) sum += pick(runs, rng).outputTokensPerS;
    return sum / runs.length;
  }
  let sum = 0;
  for (const r of runs) {
    let bins = 0;
    for (let i = 0; i < r.binRates.length; i++) bins += pick(r.binRates, rng);
    sum += bins / r.binRates.length;
  }
  return sum / runs.length;
}

/**
 * One bootstrap replicate of a side's latency values, sorted: runs drawn
 * with replacement (`byRuns`), then the requests within each drawn run.
 */
function replicateValues(
  runs: readonly RunSample[],
  field: Field,
  byRuns: boolean,
  rng: Rng,
): Float64Array {
  const drawn = byRuns ? runs.map(() => pick(runs, rng)) : runs;
  let total = 0;
  for (const r of drawn) total += r[field].length;
  const out = new Float64Array(total);
  let k = 0;
  for (const r of drawn) {
    const values = r[field];
    for (let i = 0; i < values.length; i++) out[k++] = pick(values, rng);
  }
  return out.sort();
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

/**
 * The bootstrap changes of one source: throughput, or one latency field's
 * percentiles (p50 and p99 read from the same resample).
 */
function sourceDraws(
  metrics: readonly CompareMetric[],
  a: readonly RunSample[],
  b: readonly RunSample[],
  byRuns: boolean,
  replicates: number,
  rng: Rng,
): Float64Array[] {
  const draws = metrics.map(() => new Float64Array(replicates));
  const field = parse(metrics[0] as CompareMetric)?.field;
  for (let r = 0; r < replicates; r++) {
    if (field === undefined) {
      const yb = replicateThroughput(b, byRuns, rng);
      (draws[0] as Float64Array)[r] = yb / replicateThroughput(a, byRuns, rng) - 1;
      continue;
    }
    const [vb, va] = [
      replicateValues(b, field, byRuns, rng),
      replicateValues(a, field, byRuns, rng),
    ];
    for (const [i, m] of metrics.entries()) {
      const q = (parse(m)?.q ?? 50) / 100;
      (draws[i] as Float64Array)[r] = quantileSorted(vb, q) / quantileSorted(va, q) - 1;
    }
  }
  for (const d of draws) d.sort();
  return draws;
}

/** The metrics that share one resample. */
const SOURCES: readonly (readonly CompareMetric[])[] = [
  ["output_tokens_per_s"],
  ["ttft_ms_p50", "ttft_ms_p99"],
  ["tpot_ms_p50", "tpot_ms_p99"],
  ["e2e_ms_p50", "e2e_ms_p99"],
];

/** Every figure's change with a 95% percentile interval from `replicates` draws. */
export function bootstrapChanges(
  a: readonly RunSample[],
  b: readonly RunSample[],
  replicates: number,
  seed: number,
): Record<CompareMetric, Change> {
  const byRuns = resamplesRuns(a.length, b.length);
  const out = {} as Record<CompareMetric, Change>;
  for (const [i, source] of SOURCES.entries()) {
    // One stream per source: adding a figure elsewhere never changes this one's interval.
    const rng = createRng(seed, 0xc0de + i);
    const figures = source.map((m) => ({ m, x: sideFigure(m, a), y: sideFigure(m, b) }));
    // Only figures with data on both sides are resampled.
    const live = figures.filter(({ x, y }) => x !== null && y !== null && x > 0);
    const draws =
      live.length === 0
        ? []
        : sourceDraws(
            live.map((f) => f.m),
            a,
            b,
            byRuns,
            replicates,
            rng,
          );
    for (const { m: metric, x, y } of figures) {
      const base = {
        method: methodOf(metric, byRuns),
        runsA: a.length,
        runsB: b.length,
        nA: sizeOf(metric, a, byRuns),
        nB: sizeOf(metric, b, byRuns),
      };
      const k = live.findIndex((f) => f.m === metric);
      if (x === null || y === null || k < 0) {
        const p = parse(metric);
        const flag =
          p !== null && (base.nA < MIN_REQUESTS[p.q] || base.nB < MIN_REQUESTS[p.q])
            ? `fewer than ${MIN_REQUESTS[p.q]} requests on a side`
            : "no data on a side";
        out[metric] = { a: x, b: y, change: null, low: null, high: null, ...base, flag };
        continue;
      }
      const d = draws[k] as Float64Array;
      out[metric] = {
        a: x,
        b: y,
        change: y / x - 1,
        low: quantileSorted(d, 0.025),
        high: quantileSorted(d, 0.975),
        ...base,
        flag: null,
      };
    }
  }
  return out;
}
