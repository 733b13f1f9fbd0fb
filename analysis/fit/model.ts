/**
 * The one result of a fit. computeFits() produces it, the fit tables store
 * it whole (formats/fit-tables.ts, written by fit-rows.ts and read back by
 * fit-decode.ts), and every output consumes it: the console table
 * (format-table.ts), amdahl_fit.csv, scaling_fits.parquet, the campaign's
 * summary lines and the report. Only what those outputs use is in it, so a
 * result read back from the tables equals the one that was written.
 */
import type { CiMode, SInterval } from "./bootstrap.ts";
import type { LoadScaling } from "./gustafson.ts";
import type { ScalingPoint } from "./points.ts";
import type { Metric } from "./summary.ts";

export type GroupValue = string | number | boolean | null;
export type GroupKey = Record<string, GroupValue>;

export interface AmdahlSummary {
  s: number;
  x1: number;
  /**
   * 95% bootstrap interval for s, `method` saying how it was made; null with
   * `ciNote` when it cannot be (by default: no repeats).
   */
  ci: SInterval | null;
  ciNote: string | null;
  sLinear: number;
  /** This fit's s is at its bound 0 (amdahl.ts). */
  superlinear: boolean;
  r2: number;
  rmse: number;
  /** Speedup ceiling 1/s (null when s = 0: no ceiling). */
  ceilingSpeedup: number | null;
  /** Throughput ceiling X₁/s. */
  ceilingThroughput: number | null;
  /** 2 × the largest N measured, and the throughput Amdahl predicts there. */
  predictAtN: number;
  predicted: number;
}

/**
 * The USL fit's parameters are kept for every group; `shown` says whether it
 * may be shown (usl-claim.ts: it beats Amdahl by AICc with ≥ 5 distinct N),
 * and a reader draws or prints USL only then.
 */
export interface UslSummary {
  lambda: number;
  sigma: number;
  kappa: number;
  /** Peak N* claimed: null unless USL is shown and N* lies within [N min, 2 × N max]. */
  peakN: number | null;
  r2: number;
  rmse: number;
  shown: boolean;
  /** AICc of the Amdahl and USL fits on all points (null with too few points). */
  aiccAmdahl: number | null;
  aiccUsl: number | null;
}

export interface KarpFlattSummary {
  /** X(1) measured at N = 1, or the Amdahl fit's X₁ when N = 1 was not run. */
  baseline: "measured" | "fitted";
  trend: "rising" | "falling" | "flat" | "n/a";
  points: { n: number; e: number }[];
}

/**
 * Gustafson's reading of the same points (gustafson.ts): what weak scaling is
 * judged by. `s` and `points` are filled only for a `weak` group (its load
 * grew in proportion to N); a fixed-load group gets none.
 */
export interface GustafsonSummary {
  scaling: LoadScaling;
  s: number | null;
  points: { n: number; speedup: number }[];
}

/** Every fit of one group's points (fit-group.ts fitPoints()). */
export interface PointsFit {
  points: ScalingPoint[];
  distinctN: number[];
  dropped: number;
  amdahl: AmdahlSummary;
  usl: UslSummary;
  karpFlatt: KarpFlattSummary;
  gustafson: GustafsonSummary;
  notes: string[];
}

export interface GroupFit extends PointsFit {
  /** Full key (`campaign=c users=32 parallelism=tp`). */
  group: string;
  /** Short label: only the key columns that differ between groups. */
  label: string;
  key: GroupKey;
  /** experiment_id of each point, in `points` order. */
  experiments: string[];
}

export interface SkippedGroup {
  group: string;
  key: GroupKey;
  reason: string;
}

/** The options a result was fitted with: recorded in the fit tables, so staleness is checkable. */
export interface FitOptions {
  metric: Metric;
  /** Columns the groups were keyed on. */
  by: string[];
  bootstrap: number;
  seed: number;
  /** How the CI on s may be made (`--ci`): `runs` (default) or `residual` where a group has no repeats. */
  ci: CiMode;
  /** Experiments whose summary row says `client_limited` were left out (`--exclude-client-limited`). */
  excludeClientLimited: boolean;
}

export interface FitResult extends FitOptions {
  groups: GroupFit[];
  skipped: SkippedGroup[];
  /** Files the result was written to (empty until written). */
  files: string[];
}
