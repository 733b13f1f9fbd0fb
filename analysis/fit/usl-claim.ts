/**
 * Whether a group's USL fit is shown, and its peak N* claimed. USL is Amdahl
 * plus one parameter (κ), so it always fits at least as well; it is shown
 * only when it fits better by more than the extra parameter explains: a
 * lower AICc than Amdahl's by more than 2 (Burnham & Anderson's "substantial
 * support"), both computed on all points (repeats included). With fewer than
 * 5 distinct GPU counts it is never shown: its 3 parameters take 3 of them,
 * one more is needed to see the bend κ adds, and one more so that the noise
 * of a single N cannot make that bend alone. N* is claimed only when it lies
 * near the measured range, within [smallest N, 2 × largest N] (the range the
 * Amdahl prediction is extended to); farther out it is extrapolation.
 */
import type { ScalingPoint } from "./points.ts";

export const USL_MIN_DISTINCT_N = 5;
/** AICc difference Amdahl − USL above which USL is shown. */
export const AICC_MARGIN = 2;
/** N* is claimed up to this multiple of the largest N measured. */
export const PEAK_RANGE = 2;

/**
 * AICc of a least-squares fit with Gaussian errors: n·ln(SSE/n) + 2k +
 * 2k(k + 1)/(n − k − 1), k = fitted parameters + 1 (the noise variance).
 * Null when n ≤ k + 1 (the correction is undefined).
 */
export function aicc(sse: number, n: number, parameters: number): number | null {
  const k = parameters + 1;
  if (n <= k + 1) return null;
  return n * Math.log(sse / n) + 2 * k + (2 * k * (k + 1)) / (n - k - 1);
}

export interface UslClaim {
  shown: boolean;
  aiccAmdahl: number | null;
  aiccUsl: number | null;
  /** The peak claimed: null unless USL is shown and N* lies near the measured range. */
  peakN: number | null;
  /** The note to print when USL is shown (null when it is not). */
  note: string | null;
}

export function uslClaim(opts: {
  points: readonly ScalingPoint[];
  distinctN: readonly number[];
  amdahlSse: number;
  uslSse: number;
  sigma: number;
  kappa: number;
  fittedPeakN: number | null;
}): UslClaim {
  const { points, distinctN } = opts;
  // An exact fit (SSE = 0) would give −∞: floor at a relative 1e-12 of the data's scale.
  const floor = 1e-12 * points.reduce((acc, p) => acc + p.x * p.x, 0);
  const aiccAmdahl = aicc(Math.max(opts.amdahlSse, floor), points.length, 2);
  const aiccUsl = aicc(Math.max(opts.uslSse, floor), points.length, 3);
  const shown =
    distinctN.length >= USL_MIN_DISTINCT_N &&
    aiccAmdahl !== null &&
    aiccUsl !== null &&
    aiccUsl < aiccAmdahl - AICC_MARGIN;
  if (!shown) return { shown, aiccAmdahl, aiccUsl, peakN: null, note: null };
  const nMin = distinctN[0] as number;
  const nMax = distinctN[distinctN.length - 1] as number;
  const peak = opts.fittedPeakN;
  const near = peak !== null && peak >= nMin && peak <= PEAK_RANGE * nMax;
  const why = `USL fits better than Amdahl (AICc ${(aiccUsl as number).toFixed(1)} < ${(aiccAmdahl as number).toFixed(1)} − ${AICC_MARGIN}, ${points.length} points, ${distinctN.length} GPU counts): contention σ = ${opts.sigma.toFixed(4)}, coherency κ = ${opts.kappa.toExponential(2)}`;
  if (near)
    return {
      shown,
      aiccAmdahl,
      aiccUsl,
      peakN: peak,
      note: `${why}; throughput peaks at N* ≈ ${peak.toFixed(1)}: adding GPUs past it lowers throughput`,
    };
  const far =
    peak === null
      ? "; κ = 0, so no peak"
      : `; its peak N* ≈ ${peak.toFixed(1)} lies outside [${nMin}, ${PEAK_RANGE} × ${nMax}], so no peak is claimed`;
  return { shown, aiccAmdahl, aiccUsl, peakN: null, note: `${why}${far}` };
}
