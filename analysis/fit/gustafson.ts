/**
 * Gustafson's law, for weak scaling (the load grows with N: `users:
 * {per_gpu: …}`): the scaled speedup S(N) = X(N)/X(1) of a problem grown N
 * times, and the serial fraction s of Gustafson's S(N) = N − s(N − 1),
 * fitted by least squares through the measured S (a line through (1, 1) in
 * N, so one closed form: s = Σ(N − S)(N − 1) / Σ(N − 1)²). Under strong
 * scaling (a fixed load) the same numbers are Amdahl's speedup read the
 * other way, which is why the fit reports both and the matrix says which
 * scaling ran.
 */
import { meansByN, type ScalingPoint } from "./points.ts";

export interface Gustafson {
  /** null without a GPU count above 1. */
  s: number | null;
  /** Scaled speedup per GPU count above 1, against the measured X(1) (or the fitted X₁). */
  points: { n: number; speedup: number }[];
}

export function fitGustafson(points: readonly ScalingPoint[], fittedX1: number): Gustafson {
  const means = meansByN(points);
  const x1 = means.find((m) => m.n === 1)?.x ?? fittedX1;
  const scaled = means.filter((m) => m.n > 1).map(({ n, x }) => ({ n, speedup: x / x1 }));
  let num = 0;
  let den = 0;
  for (const { n, speedup } of scaled) {
    num += (n - speedup) * (n - 1);
    den += (n - 1) ** 2;
  }
  return { s: den > 0 ? num / den : null, points: scaled };
}
