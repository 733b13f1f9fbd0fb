/**
 * Every fit for one group's points: Amdahl (LM) with a bootstrap CI on s,
 * the linearised cross-check, Karp–Flatt, USL and Gustafson. Pure: points in,
 * numbers out. Every note describes the fit that is reported beside it.
 */
import { amdahlThroughput, fitAmdahl } from "./amdahl.ts";
import { bootstrapS, type CiMode } from "./bootstrap.ts";
import { fitGustafson, type LoadScaling } from "./gustafson.ts";
import { karpFlatt } from "./karp-flatt.ts";
import type { GustafsonSummary, PointsFit } from "./model.ts";
import { cleanPoints, type ScalingPoint } from "./points.ts";
import { fitUsl } from "./usl.ts";
import { uslClaim } from "./usl-claim.ts";

export const MIN_DISTINCT_N = 3;

/** What one group's fit needs to know: replicates B, the group's own bootstrap seed, the CI mode. */
export interface PointsFitOptions {
  bootstrap: number;
  seed: number;
  /** Default `runs`: no interval without repeats. */
  ci?: CiMode;
  /** How the group's load moved with N (gustafson.ts loadScaling()); default `unknown`. */
  scaling?: LoadScaling;
}

function gustafsonOf(
  points: readonly ScalingPoint[],
  x1: number,
  scaling: LoadScaling,
  notes: string[],
): GustafsonSummary {
  // Under a fixed load the scaled speedup is Amdahl's speedup: Gustafson's s would misread it.
  if (scaling !== "weak") return { scaling, s: null, points: [] };
  const g = fitGustafson(points, x1);
  if (g.s !== null && (g.s < 0 || g.s > 1))
    notes.push(
      `Gustafson's s = ${g.s.toFixed(4)} lies outside [0, 1]: the scaled speedups ${g.s < 0 ? "beat N (super-linear)" : "fall below 1"}, which Gustafson's law cannot describe; read them, not s`,
    );
  return { scaling, ...g };
}

export type PointsFitResult = { ok: true; fit: PointsFit } | { ok: false; reason: string };

export function fitPoints(raw: readonly ScalingPoint[], opts: PointsFitOptions): PointsFitResult {
  const { points, dropped, distinctN } = cleanPoints(raw);
  const droppedNote =
    dropped > 0 ? `${dropped} point(s) with missing, NaN or zero throughput left out` : null;
  if (distinctN.length < MIN_DISTINCT_N) {
    const which = distinctN.length > 0 ? ` (${distinctN.join(", ")})` : "";
    return {
      ok: false,
      reason: `${distinctN.length} distinct GPU count(s)${which}; need ≥ ${MIN_DISTINCT_N}${droppedNote ? `; ${droppedNote}` : ""}`,
    };
  }
  const amdahl = fitAmdahl(points);
  const ci = bootstrapS(points, amdahl, {
    replicates: opts.bootstrap,
    seed: opts.seed,
    mode: opts.ci ?? "runs",
  });
  const usl = fitUsl(points, amdahl);
  const claim = uslClaim({
    points,
    distinctN,
    amdahlSse: amdahl.sse,
    uslSse: usl.sse,
    sigma: usl.sigma,
    kappa: usl.kappa,
    fittedPeakN: usl.peakN,
  });
  const kf = karpFlatt(points, amdahl.x1);
  const nMax = distinctN[distinctN.length - 1] as number;
  const notes: string[] = [];
  if (droppedNote) notes.push(droppedNote);
  if (amdahl.superlinear)
    notes.push(
      "super-linear: the best Amdahl fit lies at its bound s = 0 (the data scale linearly or better); s is clipped there, not estimated",
    );
  if (kf.trend === "rising")
    notes.push("Karp–Flatt e(N) rises with N: overhead grows with N, beyond a fixed serial part");
  if (claim.note) notes.push(claim.note);
  if (!ci.ok) notes.push(`no CI for s: ${ci.reason}`);
  else if (ci.interval.method === "residual")
    notes.push(
      "CI for s from the fit's residuals (--ci residual, no repeats): it assumes Amdahl holds, so a biased point widens it instead of moving it",
    );
  const gustafson = gustafsonOf(points, amdahl.x1, opts.scaling ?? "unknown", notes);
  return {
    ok: true,
    fit: {
      points,
      distinctN,
      dropped,
      amdahl: {
        s: amdahl.s,
        x1: amdahl.x1,
        ci: ci.ok ? ci.interval : null,
        ciNote: ci.ok ? null : ci.reason,
        sLinear: amdahl.sLinear,
        superlinear: amdahl.superlinear,
        r2: amdahl.r2,
        rmse: amdahl.rmse,
        ceilingSpeedup: amdahl.s > 0 ? 1 / amdahl.s : null,
        ceilingThroughput: amdahl.s > 0 ? amdahl.x1 / amdahl.s : null,
        predictAtN: 2 * nMax,
        predicted: amdahlThroughput(amdahl, 2 * nMax),
      },
      usl: {
        lambda: usl.lambda,
        sigma: usl.sigma,
        kappa: usl.kappa,
        peakN: claim.peakN,
        r2: usl.r2,
        rmse: usl.rmse,
        shown: claim.shown,
        aiccAmdahl: claim.aiccAmdahl,
        aiccUsl: claim.aiccUsl,
      },
      karpFlatt: {
        baseline: kf.baseline,
        trend: kf.trend,
        points: kf.points.map(({ n, e }) => ({ n, e })),
      },
      gustafson,
      notes,
    },
  };
}
