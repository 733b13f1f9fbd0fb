/**
 * When a change is a regression, pure. Three conditions, all needed:
 * - the 95% interval excludes no change (the change is not sampling noise);
 * - the change is worse than the threshold (it matters);
 * - the change is beyond the noise floor: how far the means of that many
 *   runs of one configuration drift apart (measured A/A, below). With one
 *   run a side the interval is within-run and cannot see that drift at all;
 *   with two or three, resampled runs give an interval about as wide as the
 *   runs' range, too narrow to stand alone (the bootstrap sees n − 1 of n
 *   parts of the variance and a run pair has one degree of freedom). The
 *   floor shrinks as runs are added, so with many runs the interval decides.
 */
import {
  bootstrapChanges,
  type Change,
  COMPARE_METRICS,
  type CompareMetric,
  higherIsBetter,
  type RunSample,
  resamplesRuns,
} from "./bootstrap-change.ts";

/**
 * The A/A noise floor per figure: about the 99th percentile of |B / A − 1|
 * between single runs of one configuration on the simulator (`npm run bench
 * compare`; docs/statistics.md "Comparing two campaigns" has the table and
 * how it was measured). The 99th, not the 95th: seven figures are judged at
 * once and one regression fails the comparison, so each figure gets about a
 * seventh of the 5% false-positive budget.
 */
export const NOISE_FLOOR: Readonly<Record<CompareMetric, number>> = {
  output_tokens_per_s: 0.17,
  ttft_ms_p50: 0.19,
  ttft_ms_p99: 1.07,
  tpot_ms_p50: 0.17,
  tpot_ms_p99: 0.55,
  e2e_ms_p50: 0.25,
  e2e_ms_p99: 0.2,
};

/**
 * The floor for means of `runsA` and `runsB` runs: the single-run floor ×
 * √((1/nA + 1/nB) / 2), as the spread of a difference of means shrinks.
 */
export function noiseFloorFor(metric: CompareMetric, c: Pick<Change, "runsA" | "runsB">): number {
  if (c.runsA < 1 || c.runsB < 1) return NOISE_FLOOR[metric];
  return NOISE_FLOOR[metric] * Math.sqrt((1 / c.runsA + 1 / c.runsB) / 2);
}

/** The change in the figure's bad direction (positive: worse), or null. */
export function worsening(metric: CompareMetric, c: Pick<Change, "change">): number | null {
  if (c.change === null) return null;
  return higherIsBetter(metric) ? -c.change : c.change;
}

export function isRegression(metric: CompareMetric, c: Change, threshold: number): boolean {
  const worse = worsening(metric, c);
  if (worse === null || c.low === null || c.high === null) return false;
  const excludesZero = higherIsBetter(metric) ? c.high < 0 : c.low > 0;
  return excludesZero && worse > threshold && worse > noiseFloorFor(metric, c);
}

export interface MetricChange extends Change {
  metric: CompareMetric;
  /** The noise floor the verdict applied (fraction). */
  floor: number;
  regression: boolean;
}

export interface SetVerdict {
  /** At least two runs a side: intervals from the runs; else a change cannot be told from run-to-run noise. */
  fromRuns: boolean;
  changes: MetricChange[];
}

/** One matched set's changes and verdicts: what `vscale compare` and the bench both run. */
export function judgeSet(
  a: readonly RunSample[],
  b: readonly RunSample[],
  opts: { threshold: number; bootstrap: number; seed: number },
): SetVerdict {
  const changes = bootstrapChanges(a, b, opts.bootstrap, opts.seed);
  return {
    fromRuns: resamplesRuns(a.length, b.length),
    changes: COMPARE_METRICS.map((metric) => ({
      metric,
      ...changes[metric],
      floor: noiseFloorFor(metric, changes[metric]),
      regression: isRegression(metric, changes[metric], opts.threshold),
    })),
  };
}
