/**
 * Capacity at an SLO, pure: per sweep (one group's rates at one repeat) the
 * highest offered rate whose figures meet every objective; per group the
 * mean over repeats with a 95% t-interval. The one place capacity is
 * computed: capacity.csv, `vscale fit --metric capacity`, the report and
 * `vscale compare` all consume `groupCapacity()`.
 *
 * Interpolation: each objective's margin is value / limit (≤ 1 meets it) and
 * a rate's margin is the worst of them. Between the last rate that meets the
 * SLO and the first that does not, the margin is taken as linear in the rate
 * and capacity is where it crosses 1, the usual linear interpolation of
 * a latency-vs-load curve between two measured loads. Rates past the first
 * failure are ignored (a knee is a knee even if a later point looks better).
 * A sweep that never crosses gives a bound, not an estimate: at least the
 * highest rate when every rate met the SLO, below the lowest when none did.
 * Bounds carry no interval and no fit takes them (fit.ts).
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

/**
 * What a capacity figure is when it is not an interpolated crossing: `lower`,
 * the capacity is at least the figure (every rate measured met the SLO, or the
 * rate past it has no figure to interpolate to); `upper`, it is below the
 * figure (even the lowest rate measured missed the SLO).
 */
export type CapacityBound = "lower" | "upper";

export interface SweepCapacity {
  /** The crossing, or the bound's figure when `bound` is set. */
  capacity: number | null;
  /** null: interpolated between a rate that met the SLO and one that missed it. */
  bound: CapacityBound | null;
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
      bound: last ? "lower" : null,
      kneeRate: null,
      limitedBy: null,
      missing,
    };
  }
  const knee = sorted[fail] as RatePoint;
  const limitedBy = margins[fail]?.worst ?? null;
  if (fail === 0)
    return { capacity: knee.rate, bound: "upper", kneeRate: knee.rate, limitedBy, missing };
  const a = sorted[fail - 1] as RatePoint;
  const ma = (margins[fail - 1] as { m: number }).m;
  const mb = (margins[fail] as { m: number }).m;
  // No figure at the knee: nothing to interpolate to, only that the last rate met it.
  if (!Number.isFinite(mb))
    return { capacity: a.rate, bound: "lower", kneeRate: knee.rate, limitedBy, missing };
  const capacity = a.rate + ((1 - ma) / (mb - ma)) * (knee.rate - a.rate);
  return { capacity, bound: null, kneeRate: knee.rate, limitedBy, missing };
}

export interface GroupCapacity {
  /** Capacity per repeat. */
  repeats: { repeat: number; sweep: SweepCapacity }[];
  /**
   * Mean over repeats: an estimate when every repeat interpolated; a bound
   * (`bound`) when some repeat is one, since a mean of estimates and lower
   * bounds is itself only a lower bound (upper alike); null when repeats
   * disagree (some lower, some upper bounds).
   */
  capacity: number | null;
  /** 95% t-interval over repeats: only for an estimate, never for a bound. */
  ciLow: number | null;
  ciHigh: number | null;
  bound: CapacityBound | null;
  /** Some repeats are lower bounds and some upper: no figure. */
  disagree: boolean;
  kneeRate: number | null;
}

export function groupCapacity(byRepeat: ReadonlyMap<number, RatePoint[]>, slo: Slo): GroupCapacity {
  const repeats = [...byRepeat.entries()]
    .sort(([a], [b]) => a - b)
    .map(([repeat, points]) => ({ repeat, sweep: sweepCapacity(points, slo) }));
  const values = repeats.flatMap((r) => (r.sweep.capacity === null ? [] : [r.sweep.capacity]));
  const knees = repeats.flatMap((r) => (r.sweep.kneeRate === null ? [] : [r.sweep.kneeRate]));
  const bounds = new Set(repeats.map((r) => r.sweep.bound));
  const disagree = bounds.has("lower") && bounds.has("upper");
  const bound: CapacityBound | null = disagree
    ? null
    : bounds.has("lower")
      ? "lower"
      : bounds.has("upper")
        ? "upper"
        : null;
  const interval = values.length > 0 && !disagree ? meanInterval(values) : null;
  const estimate = interval !== null && bound === null;
  return {
    repeats,
    capacity: interval?.mean ?? null,
    ciLow: estimate ? interval.low : null,
    ciHigh: estimate ? interval.high : null,
    bound,
    disagree,
    kneeRate: knees.length > 0 ? Math.min(...knees) : null,
  };
}
