/**
 * Gustafson's law, for weak scaling (the load grows with N: `users:
 * {per_gpu: …}`): the scaled speedup S(N) = X(N)/X(1) of a problem grown N
 * times, and the serial fraction s of Gustafson's S(N) = N − s(N − 1),
 * fitted by least squares through the measured S (a line through (1, 1) in
 * N, so one closed form: s = Σ(N − S)(N − 1) / Σ(N − 1)²). Under strong
 * scaling (a fixed load) the same numbers are Amdahl's speedup read the
 * other way, so the fit reports Gustafson's s only for groups whose load
 * grew with N (loadScaling() below, from the summary's load columns).
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

/**
 * How a group's offered load moved with N: `weak` when the load per GPU is
 * the same at every N (Gustafson's premise), `strong` when the load is the
 * same at every N (a fixed problem: Amdahl's), `unknown` otherwise (a load
 * not recorded, or grown out of proportion to N). Users are whole numbers, so
 * `per_gpu` × N may be off by half a user.
 */
export type LoadScaling = "weak" | "strong" | "unknown";

export function loadScaling(
  loads: readonly { n: number; load: number | null }[],
  /** Users (whole numbers) rather than a rate. */
  whole: boolean,
): LoadScaling {
  if (loads.length === 0 || loads.some((l) => l.load === null || !Number.isFinite(l.load)))
    return "unknown";
  const known = loads as readonly { n: number; load: number }[];
  if (new Set(known.map((l) => l.n)).size < 2) return "unknown";
  const close = (a: number, b: number) =>
    Math.abs(a - b) <= Math.max(whole ? 0.5 : 0, 1e-6 * Math.abs(b));
  const first = known[0] as { n: number; load: number };
  if (known.every((l) => close(l.load, first.load))) return "strong";
  // From the largest N, where rounding to whole users weighs least.
  const last = known.reduce((a, b) => (b.n > a.n ? b : a));
  const perGpu = last.load / last.n;
  return known.every((l) => close(l.load, perGpu * l.n)) ? "weak" : "unknown";
}
