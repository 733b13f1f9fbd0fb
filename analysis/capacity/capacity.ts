/**
 * Capacity at an SLO, pure: per sweep (one group's rates at one repeat) the
 * highest offered rate whose figures meet every objective; per group the
 * mean over repeats with a 95% t-interval. The one place capacity is
 * computed: capacity.csv, `vscale fit --metric capacity`, the report and
 * `vscale compare` all consume `capacityOf()`.
 *
 * Interpolation: each objective's margin is value / limit (≤ 1 meets it) and
 * a rate's margin is the worst of them. Between the last rate that meets the
 * SLO and the first that does not, the margin is taken as linear in the rate
 * and capacity is where it crosses 1, the usual linear interpolation of
 * a latency-vs-load curve between two measured loads. Rates past the first
 * failure are ignored (a knee is a knee even if a later point looks better).
 */
import { meanInterval } from "../../stats/t-quantile.ts";

export type Slo = Readonly<Record<string, number>>;

export interface RatePoint {
  /** Offered request rate (req/s). */
  rate: number;
  /** Every SLO column's value at that rate (null = not measured). */
  values: Readonly<Record<string, number | null>>;
  experimentId: string;
}

export type CapacityBound =
  /** Crossed between two measured rates: interpolated. */
  | "interpolated"
  /** Even the highest rate met the SLO: capacity is at least that (a lower bound). */
  | "above_range"
  /** Even the lowest rate missed it: capacity is below the range measured (null). */
  | "below_range";

export interface SweepCapacity {
  capacity: number | null;
  bound: CapacityBound;
  /** First measured rate that misses the SLO (the knee), null when none does. */
  kneeRate: number | null;
  /** Objectives that decided the crossing (the worst margin at the knee). */
  limitedBy: string | null;
  /** Experiments whose figures were missing for some objective (counted as missing it). */
  missing: string[];
}

function margin(point: RatePoint, slo: Slo): { m: number; worst: string | null; missing: boolean } {
  let m = Number.NEGATIVE_INFINITY;
  let worst: string | null = null;
  let missing = false;
  for (const [key, limit] of Object.entries(slo)) {
    const v = point.values[key];
    const r =
      v === null || v === undefined || !Number.isFinite(v) ? Number.POSITIVE_INFINITY : v / limit;
    if (v === null || v === undefined) missing = true;
    if (r > m) {
      m = r;
      worst = key;
    }
  }
  return { m, worst, missing };
}

/** One sweep's capacity: points at distinct rates (any order). */
export function sweepCapacity(points: readonly RatePoint[], slo: Slo): SweepCapacity {
  const sorted = [...points].sort((a, b) => a.rate - b.rate);
  const margins = sorted.map((p) => margin(p, slo));
  const missing = sorted.filter((_, i) => margins[i]?.missing).map((p) => p.experimentId);
  const fail = margins.findIndex((x) => x.m > 1);
  if (fail < 0) {
    const last = sorted.at(-1);
    return {
      capacity: last ? last.rate : null,
      bound: "above_range",
      kneeRate: null,
      limitedBy: null,
      missing,
    };
  }
  const knee = sorted[fail] as RatePoint;
  const limitedBy = margins[fail]?.worst ?? null;
  if (fail === 0)
    return { capacity: null, bound: "below_range", kneeRate: knee.rate, limitedBy, missing };
  const a = sorted[fail - 1] as RatePoint;
  const ma = (margins[fail - 1] as { m: number }).m;
  const mb = (margins[fail] as { m: number }).m;
  const capacity = Number.isFinite(mb)
    ? a.rate + ((1 - ma) / (mb - ma)) * (knee.rate - a.rate)
    : a.rate;
  return { capacity, bound: "interpolated", kneeRate: knee.rate, limitedBy, missing };
}

export interface GroupCapacity {
  /** Capacity per repeat (null where below range). */
  repeats: { repeat: number; sweep: SweepCapacity }[];
  /** Mean over repeats with a capacity; null when none has one. */
  capacity: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  /** The weakest bound over repeats: any `below_range` or `above_range` is reported. */
  bound: CapacityBound;
  kneeRate: number | null;
}

export function groupCapacity(byRepeat: ReadonlyMap<number, RatePoint[]>, slo: Slo): GroupCapacity {
  const repeats = [...byRepeat.entries()]
    .sort(([a], [b]) => a - b)
    .map(([repeat, points]) => ({ repeat, sweep: sweepCapacity(points, slo) }));
  const values = repeats.flatMap((r) => (r.sweep.capacity === null ? [] : [r.sweep.capacity]));
  const knees = repeats.flatMap((r) => (r.sweep.kneeRate === null ? [] : [r.sweep.kneeRate]));
  const bounds = repeats.map((r) => r.sweep.bound);
  const bound: CapacityBound = bounds.includes("below_range")
    ? "below_range"
    : bounds.includes("above_range")
      ? "above_range"
      : "interpolated";
  const interval = values.length > 0 ? meanInterval(values) : null;
  return {
    repeats,
    capacity: interval?.mean ?? null,
    ciLow: interval?.low ?? null,
    ciHigh: interval?.high ?? null,
    bound,
    kneeRate: knees.length > 0 ? Math.min(...knees) : null,
  };
}
