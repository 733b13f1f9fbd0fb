/**
 * A 95% confidence interval for Amdahl's s by a seeded bootstrap that
 * resamples runs within each N (the design is fixed: which GPU counts ran
 * is not random, only the throughput measured at each). The run is the unit
 * of replication: what varies between two runs of one configuration is what
 * the interval must cover, so without repeats at every N there is no
 * interval unless the residual bootstrap is asked for (`--ci residual`).
 *
 * Two small-sample corrections, because campaigns have 2–5 repeats per N and a
 * plain percentile bootstrap under-covers there:
 * - deviations from each N's mean are inflated by √(n/(n − 1)): the plain
 *   bootstrap's variance is (n − 1)/n of the sample variance;
 * - the percentile interval is widened about ŝ by t_ν/z (ν = points − distinct
 *   N, the within-N degrees of freedom), since the spread itself is estimated
 *   from few points (the bootstrap analogue of using t instead of z).
 * The planted-truth tests in test/analysis/bootstrap.test.ts and
 * test/analysis/ci-coverage.test.ts (the main job's design on the simulator)
 * hold coverage ≥ 90%; bench/fit-coverage.ts measures it.
 */

import { quantileSorted, tCritical95 } from "../../stats/quantile.ts";
import { createRng } from "../../stats/rng.ts";
import { type AmdahlParams, amdahlThroughput, fitAmdahl } from "./amdahl.ts";
import type { ScalingPoint } from "./points.ts";

/**
 * `runs`: resample repeats within each N, no interval without them (the default);
 * `residual`: where a group has no repeats, resample the fit's residuals instead (labelled).
 */
export const CI_MODES = ["runs", "residual"] as const;
export type CiMode = (typeof CI_MODES)[number];

export interface BootstrapOptions {
  /** Number of bootstrap replicates B. */
  replicates: number;
  seed: number;
  /** Default `runs`. */
  mode?: CiMode;
}

/** Why there is no interval when a group has no repeats (the default). */
export const NO_REPEATS_REASON = "no repeats: run repeats ≥ 2";

export interface SInterval {
  low: number;
  high: number;
  replicates: number;
  /** `within-n`: repeats resampled at each N; `residual`: no repeats, model residuals resampled. */
  method: "within-n" | "residual";
}

export type BootstrapResult = { ok: true; interval: SInterval } | { ok: false; reason: string };

/**
 * Welch–Satterthwaite degrees of freedom of ŝ: ŝ leans on some N more than
 * others (with multiplicative noise, mostly on the largest N), so its spread is
 * estimated from fewer effective points than the pooled within-N count. The
 * sensitivity ∂ŝ/∂(mean at N) comes from refitting with that mean nudged.
 */
function effectiveDf(
  points: readonly ScalingPoint[],
  groups: { n: number; mean: number; deviations: number[] }[],
  estimate: AmdahlParams,
): number {
  let num = 0;
  let den = 0;
  for (const g of groups) {
    const count = g.deviations.length;
    if (count < 2) continue;
    const h = 1e-4 * g.mean;
    const nudged = points.map((p) => (p.n === g.n ? { n: p.n, x: p.x + h } : p));
    const slope = (fitAmdahl(nudged, estimate).s - estimate.s) / h;
    // deviations are already inflated by √(n/(n−1)), so Σd²/n is the unbiased variance.
    const variance = g.deviations.reduce((acc, d) => acc + d * d, 0) / count;
    const v = (slope * slope * variance) / count;
    num += v;
    den += (v * v) / (count - 1);
  }
  return den > 0 ? Math.max(1, (num * num) / den) : points.length - groups.length;
}

export function bootstrapS(
  points: readonly ScalingPoint[],
  estimate: AmdahlParams,
  { replicates, seed, mode = "runs" }: BootstrapOptions,
): BootstrapResult {
  const strata = new Map<number, number[]>();
  for (const p of points) strata.set(p.n, [...(strata.get(p.n) ?? []), p.x]);
  const groups = [...strata.entries()].map(([n, xs]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const inflate = xs.length > 1 ? Math.sqrt(xs.length / (xs.length - 1)) : 0;
    return { n, mean, deviations: xs.map((x) => (x - mean) * inflate) };
  });
  const df = points.length - groups.length;
  if (replicates < 20) return { ok: false, reason: `bootstrap B=${replicates} is too small` };
  if (df < 1)
    return mode === "residual"
      ? residualBootstrap(points, estimate, { replicates, seed })
      : {
          ok: false,
          reason: `${NO_REPEATS_REASON} (or --ci residual for an interval that assumes Amdahl holds)`,
        };
  // A GPU count with one run has no spread to resample: it would enter every
  // replicate at its measured value and narrow the interval it cannot inform.
  const single = groups.filter((g) => g.deviations.length < 2).map((g) => g.n);
  if (single.length > 0 && mode === "residual")
    return residualBootstrap(points, estimate, { replicates, seed });
  if (single.length > 0)
    return {
      ok: false,
      reason: `one run at N = ${single.join(", ")}: run repeats ≥ 2 at every GPU count`,
    };

  const rng = createRng(seed);
  const estimates = new Float64Array(replicates);
  const sample: ScalingPoint[] = points.map((p) => ({ ...p }));
  for (let b = 0; b < replicates; b++) {
    let i = 0;
    for (const g of groups) {
      for (let k = 0; k < g.deviations.length; k++) {
        const pick = g.deviations[rng.int(g.deviations.length)] as number;
        sample[i] = { n: g.n, x: g.mean + pick };
        i++;
      }
    }
    // Warm-started at ŝ, a few steps converge (the replicate is near the original).
    estimates[b] = fitAmdahl(sample.slice(0, i), estimate, 8).s;
  }
  estimates.sort();
  const widen = tCritical95(effectiveDf(points, groups, estimate)) / 1.96;
  const lowPct = quantileSorted(estimates, 0.025);
  const highPct = quantileSorted(estimates, 0.975);
  return {
    ok: true,
    interval: {
      low: Math.max(0, estimate.s - widen * (estimate.s - lowPct)),
      high: Math.min(1, estimate.s + widen * (highPct - estimate.s)),
      replicates,
      method: "within-n",
    },
  };
}

/**
 * Only when asked for (`--ci residual`). Without repeats there is nothing to
 * resample within N, so resample the fit's relative residuals instead (noise
 * in throughput is multiplicative). This leans on the model being right: a
 * biased point inflates the residuals and widens the interval instead of
 * moving it, so it is the weaker interval and says so:
 * `method` tells the reader which one they got. Residuals are inflated by
 * √(n/(n − 2)) (two parameters were fitted) and the percentile interval is
 * widened by t_{n−2}/z, as above.
 */
function residualBootstrap(
  points: readonly ScalingPoint[],
  estimate: AmdahlParams,
  { replicates, seed }: BootstrapOptions,
): BootstrapResult {
  const df = points.length - 2;
  if (df < 1)
    return { ok: false, reason: "no repeats and only two points: no residual to resample" };
  const fitted = points.map((p) => amdahlThroughput(estimate, p.n));
  const inflate = Math.sqrt(points.length / df);
  const residuals = points.map((p, i) => (p.x / (fitted[i] as number) - 1) * inflate);
  const rng = createRng(seed);
  const estimates = new Float64Array(replicates);
  for (let b = 0; b < replicates; b++) {
    const sample = points.map((p, i) => ({
      n: p.n,
      x: (fitted[i] as number) * (1 + (residuals[rng.int(residuals.length)] as number)),
    }));
    estimates[b] = fitAmdahl(sample, estimate, 8).s;
  }
  estimates.sort();
  const widen = tCritical95(df) / 1.96;
  return {
    ok: true,
    interval: {
      low: Math.max(0, estimate.s - widen * (estimate.s - quantileSorted(estimates, 0.025))),
      high: Math.min(1, estimate.s + widen * (quantileSorted(estimates, 0.975) - estimate.s)),
      replicates,
      method: "residual",
    },
  };
}
