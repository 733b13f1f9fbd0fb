/**
 * Gunther's Universal Scalability Law, X(N) = λN / (1 + σ(N − 1) + κN(N − 1)):
 * σ is contention (Amdahl's s), κ coherency (crosstalk). With κ > 0 throughput
 * peaks at N* = √((1 − σ)/κ) and falls after it.
 */
import { levenbergMarquardt } from "ml-levenberg-marquardt";
import { type GoodnessOfFit, goodnessOfFit, meansByN, type ScalingPoint } from "./points.ts";

export interface UslParams {
  lambda: number;
  sigma: number;
  kappa: number;
}

export function uslThroughput({ lambda, sigma, kappa }: UslParams, n: number): number {
  return (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
}

export interface UslFit extends UslParams, GoodnessOfFit {
  /** N at peak throughput, null when κ = 0 (no retrograde region). */
  peakN: number | null;
  iterations: number;
}

/**
 * Start values from Gunther's quadratic: with C = X(N)/λ, N/C − 1 =
 * (σ + κ)(N − 1) + κ(N − 1)², a regression through the origin in N − 1.
 */
function quadraticStart(points: readonly ScalingPoint[]): UslParams {
  const means = meansByN(points);
  const base = means[0] as { n: number; x: number };
  const lambda = base.x / base.n;
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  let b1 = 0;
  let b2 = 0;
  for (const { n, x } of means) {
    const u = n - 1;
    const y = (n * lambda) / x - 1;
    s11 += u * u;
    s12 += u * u * u;
    s22 += u * u * u * u;
    b1 += u * y;
    b2 += u * u * y;
  }
  const det = s11 * s22 - s12 * s12;
  const c1 = det !== 0 ? (b1 * s22 - b2 * s12) / det : 0;
  const kappa = det !== 0 ? Math.max((s11 * b2 - s12 * b1) / det, 0) : 0;
  const sigma = Math.min(Math.max(c1 - kappa, 0), 1);
  return { lambda, sigma, kappa };
}

/**
 * `amdahl` (σ = s, κ = 0) is USL's boundary solution: projected LM stalls
 * near κ = 0, so it is kept as a candidate and the smaller SSE wins.
 */
export function fitUsl(
  points: readonly ScalingPoint[],
  amdahl?: { x1: number; s: number },
): UslFit {
  const start = quadraticStart(points);
  const scale = start.lambda > 0 && Number.isFinite(start.lambda) ? start.lambda : 1;
  const result = levenbergMarquardt(
    { x: points.map((p) => p.n), y: points.map((p) => p.x / scale) },
    ([lambda = 1, sigma = 0, kappa = 0]) =>
      (n) =>
        (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1)),
    {
      initialValues: [1, start.sigma, Math.max(start.kappa, 1e-6)],
      minValues: [1e-9, 0, 0],
      maxValues: [1e9, 1, 1e3],
      jacobianFunction:
        ([lambda = 1, sigma = 0, kappa = 0]) =>
        (n) => {
          const d = 1 + sigma * (n - 1) + kappa * n * (n - 1);
          const dd = d * d;
          return [n / d, (-lambda * n * (n - 1)) / dd, (-lambda * n * n * (n - 1)) / dd];
        },
      damping: 1e-2,
      maxIterations: 300,
      errorTolerance: 1e-14,
      improvementThreshold: 1e-3,
    },
  );
  const [lambdaScaled = Number.NaN, sigma = Number.NaN, kappa = Number.NaN] =
    result.parameterValues;
  let params = { lambda: lambdaScaled * scale, sigma, kappa };
  let fit = goodnessOfFit(points, (n) => uslThroughput(params, n));
  if (amdahl) {
    const boundary = { lambda: amdahl.x1, sigma: amdahl.s, kappa: 0 };
    const boundaryFit = goodnessOfFit(points, (n) => uslThroughput(boundary, n));
    if (!(fit.sse <= boundaryFit.sse)) {
      params = boundary;
      fit = boundaryFit;
    }
  }
  return {
    ...params,
    ...fit,
    peakN: params.kappa > 0 ? Math.sqrt((1 - params.sigma) / params.kappa) : null,
    iterations: result.iterations,
  };
}
