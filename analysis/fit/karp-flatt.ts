/**
 * The Karp–Flatt metric: the experimentally determined serial fraction
 * e(N) = (1/S(N) − 1/N)/(1 − 1/N). On exact Amdahl data it equals s at every
 * N; a rising e(N) means overhead grows with N (communication, contention),
 * which a single Amdahl s cannot describe.
 */
import { linearRegression } from "simple-statistics";
import { meansByN, type ScalingPoint } from "./points.ts";

export interface KarpFlattPoint {
  n: number;
  speedup: number;
  e: number;
}

export type KarpFlattTrend = "rising" | "falling" | "flat" | "n/a";

export interface KarpFlatt {
  /** Where X(1) came from: the measured mean at N = 1, or the Amdahl fit's X₁ when N = 1 was not run. */
  baseline: "measured" | "fitted";
  points: KarpFlattPoint[];
  trend: KarpFlattTrend;
}

/** A change in e(N) across the measured range smaller than this is noise, not a trend. */
const TREND_THRESHOLD = 0.02;

export function karpFlatt(points: readonly ScalingPoint[], fittedX1: number): KarpFlatt {
  const means = meansByN(points);
  const one = means.find((m) => m.n === 1);
  const x1 = one ? one.x : fittedX1;
  const out = means
    .filter((m) => m.n > 1)
    .map(({ n, x }) => {
      const speedup = x / x1;
      return { n, speedup, e: (1 / speedup - 1 / n) / (1 - 1 / n) };
    });
  return { baseline: one ? "measured" : "fitted", points: out, trend: karpFlattTrend(out) };
}

/** Slope of e against log₂N, times the log₂ range: the change in e across the campaign. */
export function karpFlattTrend(points: readonly KarpFlattPoint[]): KarpFlattTrend {
  const finite = points.filter((p) => Number.isFinite(p.e));
  if (finite.length < 2) return "n/a";
  const logs = finite.map((p) => Math.log2(p.n));
  const { m } = linearRegression(finite.map((p, i) => [logs[i] as number, p.e]));
  const change = m * (Math.max(...logs) - Math.min(...logs));
  if (change > TREND_THRESHOLD) return "rising";
  if (change < -TREND_THRESHOLD) return "falling";
  return "flat";
}
