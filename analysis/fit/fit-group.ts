/**
 * Every fit for one group's points: Amdahl (LM) with a bootstrap CI on s,
 * the linearised cross-check, Karp–Flatt and USL. Pure: points in, numbers out.
 */
import { amdahlThroughput, fitAmdahl } from "./amdahl.ts";
import { bootstrapS } from "./bootstrap.ts";
import { fitGustafson } from "./gustafson.ts";
import { karpFlatt } from "./karp-flatt.ts";
import type { PointsFit } from "./model.ts";
import { cleanPoints, type ScalingPoint } from "./points.ts";
import { fitUsl } from "./usl.ts";

export const MIN_DISTINCT_N = 3;

/** What one group's fit needs to know: replicates B and the group's own bootstrap seed. */
export interface PointsFitOptions {
  bootstrap: number;
  seed: number;
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
  const ci = bootstrapS(points, amdahl, { replicates: opts.bootstrap, seed: opts.seed });
  const usl = fitUsl(points, amdahl);
  const kf = karpFlatt(points, amdahl.x1);
  const gustafson = fitGustafson(points, amdahl.x1);
  const nMax = distinctN[distinctN.length - 1] as number;
  const notes: string[] = [];
  if (droppedNote) notes.push(droppedNote);
  if (amdahl.superlinear)
    notes.push(
      `super-linear: the unconstrained fit wants s = ${amdahl.sLinear.toFixed(4)} < 0; s clipped at 0`,
    );
  if (kf.trend === "rising")
    notes.push("Karp–Flatt e(N) rises with N: overhead grows with N, beyond a fixed serial part");
  if (usl.peakN !== null && usl.peakN < nMax * 2)
    notes.push(`USL peak at N* ≈ ${usl.peakN.toFixed(1)}: adding GPUs past it lowers throughput`);
  if (!ci.ok) notes.push(`no CI for s: ${ci.reason}`);
  else if (ci.interval.method === "residual")
    notes.push(
      "no repeats: the CI for s resamples the fit's residuals, so it assumes Amdahl holds",
    );
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
        peakN: usl.peakN,
        r2: usl.r2,
        rmse: usl.rmse,
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
