/**
 * Amdahl's law in throughput form, X(N) = X₁·N / (1 + s·(N − 1)), fitted by
 * Levenberg–Marquardt with 0 ≤ s ≤ 1 and X₁ > 0, plus the linearised fit
 * (1/S against 1/N by least squares) used to start LM and to cross-check it.
 */
import { levenbergMarquardt } from "ml-levenberg-marquardt";
import { linearRegression } from "simple-statistics";
import { type GoodnessOfFit, goodnessOfFit, type ScalingPoint, throughputScale } from "./points.ts";

export interface AmdahlParams {
  x1: number;
  s: number;
}

export function amdahlThroughput({ x1, s }: AmdahlParams, n: number): number {
  return (x1 * n) / (1 + s * (n - 1));
}

export interface LinearAmdahl extends AmdahlParams {
  /** Unconstrained: negative means the data scale super-linearly. */
  s: number;
}

/**
 * 1/X = s/X₁ + ((1 − s)/X₁)·(1/N): a straight line in 1/N, so ordinary least
 * squares gives intercept a = s/X₁ and slope b = (1 − s)/X₁. Unconstrained:
 * s comes out negative on super-linear data, which is how we detect it.
 */
export function fitAmdahlLinear(points: readonly ScalingPoint[]): LinearAmdahl {
  const { m: slope, b: intercept } = linearRegression(points.map((p) => [1 / p.n, 1 / p.x]));
  const total = intercept + slope;
  return { x1: 1 / total, s: intercept / total };
}

export interface AmdahlFit extends AmdahlParams, GoodnessOfFit {
  iterations: number;
  /** The linearised estimate of s (unconstrained): the start and a cross-check, never a flag. */
  sLinear: number;
  /**
   * True when this fit's s sits at its bound 0: the data scale linearly or
   * better, and s is clipped there, not estimated. Judged on the reported fit
   * (not the linearised one), so the flag and the s printed beside it agree.
   */
  superlinear: boolean;
}

/** For a fixed s the least-squares X₁ is closed-form: Σ g·x / Σ g², g = N/(1 + s(N − 1)). */
function bestX1(points: readonly ScalingPoint[], s: number): number {
  let gx = 0;
  let gg = 0;
  for (const p of points) {
    const g = p.n / (1 + s * (p.n - 1));
    gx += g * p.x;
    gg += g * g;
  }
  return gx / gg;
}

/**
 * Projected LM stalls just inside a bound (it clips each step), so compare
 * with the bounds themselves: super-linear data belong exactly at s = 0.
 */
function atBoundIfBetter(points: readonly ScalingPoint[], fitted: AmdahlParams): AmdahlParams {
  const sse = (p: AmdahlParams) =>
    points.reduce((acc, q) => acc + (q.x - amdahlThroughput(p, q.n)) ** 2, 0);
  let best = fitted;
  let bestSse = Number.isFinite(fitted.s) ? sse(fitted) : Number.POSITIVE_INFINITY;
  for (const s of [0, 1]) {
    const candidate = { x1: bestX1(points, s), s };
    const candidateSse = sse(candidate);
    if (candidateSse < bestSse) {
      best = candidate;
      bestSse = candidateSse;
    }
  }
  return best;
}

/** s this close to 0 is the bound itself (projected LM stops just inside it). */
const AT_ZERO = 1e-6;

/** LM on throughput divided by `throughputScale`, so tolerances are scale-free. */
export function fitAmdahl(
  points: readonly ScalingPoint[],
  start?: AmdahlParams,
  maxIterations = 20,
): AmdahlFit {
  const scale = throughputScale(points);
  const linear = fitAmdahlLinear(points);
  const init = start ?? {
    x1: Number.isFinite(linear.x1) && linear.x1 > 0 ? linear.x1 : scale,
    s: Number.isFinite(linear.s) ? Math.min(Math.max(linear.s, 0), 1) : 0.1,
  };
  const result = levenbergMarquardt(
    { x: points.map((p) => p.n), y: points.map((p) => p.x / scale) },
    ([x1 = 1, s = 0]) =>
      (n) =>
        (x1 * n) / (1 + s * (n - 1)),
    {
      initialValues: [init.x1 / scale, init.s],
      minValues: [1e-9, 0],
      maxValues: [1e9, 1],
      jacobianFunction:
        ([x1 = 1, s = 0]) =>
        (n) => {
          const d = 1 + s * (n - 1);
          return [n / d, (-x1 * n * (n - 1)) / (d * d)];
        },
      damping: 1e-2,
      // The library stops only when SSE ≤ errorTolerance, which noisy data never
      // reaches; 20 damped Gauss–Newton steps from the linearised start converge.
      maxIterations,
      errorTolerance: 1e-14,
      improvementThreshold: 1e-3,
    },
  );
  const [x1Scaled = Number.NaN, s = Number.NaN] = result.parameterValues;
  const params = atBoundIfBetter(points, { x1: x1Scaled * scale, s });
  return {
    ...params,
    ...goodnessOfFit(points, (n) => amdahlThroughput(params, n)),
    iterations: result.iterations,
    sLinear: linear.s,
    superlinear: params.s <= AT_ZERO,
  };
}
