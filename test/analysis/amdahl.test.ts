import { describe, expect, it } from "vitest";
import { amdahlThroughput, fitAmdahl, fitAmdahlLinear } from "../../analysis/fit/amdahl.ts";
import { fitPoints } from "../../analysis/fit/fit-group.ts";
import type { ScalingPoint } from "../../analysis/fit/points.ts";
import { createRng } from "../../stats/rng.ts";

function planted(s: number, noise: number, seed: number, repeats = 3, x1 = 800): ScalingPoint[] {
  const rng = createRng(seed);
  const points: ScalingPoint[] = [];
  for (const n of [1, 2, 4, 8])
    for (let r = 0; r < repeats; r++)
      points.push({ n, x: amdahlThroughput({ x1, s }, n) * (1 + noise * rng.normal()) });
  return points;
}

describe("fitAmdahl (Levenberg–Marquardt)", () => {
  it.each([0, 0.02, 0.1, 0.3])("recovers exact s = %s and X1 from noiseless data", (s) => {
    const fit = fitAmdahl(planted(s, 0, 1));
    expect(fit.s).toBeCloseTo(s, 6);
    expect(fit.x1).toBeCloseTo(800, 3);
    expect(fit.rmse).toBeLessThan(1e-6);
  });

  it.each([0.02, 0.1, 0.3])("the linearised fit agrees with LM on clean data (s = %s)", (s) => {
    const points = planted(s, 0.002, 11);
    const lm = fitAmdahl(points);
    const linear = fitAmdahlLinear(points);
    expect(Math.abs(lm.s - linear.s)).toBeLessThan(0.003);
    // At 0.2% noise per point the two estimators of X1 weight points differently:
    // over 200 seeds they differ by at most 0.52%, so 0.6% is the honest bound.
    expect(Math.abs(lm.x1 - linear.x1) / lm.x1).toBeLessThan(0.006);
  });

  it.each([
    [0, 0.02],
    [0.02, 0.05],
    [0.1, 0.03],
    [0.3, 0.05],
  ])("s = %s with %s noise: mean |ŝ − s| over 50 seeded trials is small", (s, noise) => {
    let total = 0;
    for (let t = 0; t < 50; t++) total += Math.abs(fitAmdahl(planted(s, noise, 100 + t)).s - s);
    expect(total / 50).toBeLessThan(0.02 + s * 0.05);
  });

  it("is invariant to the throughput unit (tokens/s versus requests/s)", () => {
    const points = planted(0.1, 0.03, 5);
    const a = fitAmdahl(points);
    const b = fitAmdahl(points.map((p) => ({ n: p.n, x: p.x / 1e4 })));
    expect(b.s).toBeCloseTo(a.s, 5);
    expect(b.x1 * 1e4).toBeCloseTo(a.x1, 2);
  });
});

describe("fitPoints edge cases", () => {
  const opts = { bootstrap: 100, seed: 1 };

  it("skips a group with one GPU count, saying why", () => {
    const result = fitPoints(
      [
        { n: 4, x: 100 },
        { n: 4, x: 101 },
      ],
      opts,
    );
    expect(result).toEqual({
      ok: false,
      reason: expect.stringMatching(/1 distinct GPU count.*need ≥ 3/),
    });
  });

  it("drops NaN and zero throughput points, and skips when too few N remain", () => {
    const points = planted(0.1, 0.02, 3);
    const broken = points.map((p) =>
      p.n === 8 ? { n: 8, x: Number.NaN } : p.n === 4 ? { n: 4, x: 0 } : p,
    );
    const result = fitPoints(broken, opts);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.reason).toMatch(/6 point\(s\) with missing, NaN or zero throughput/);
  });

  it("fits the remaining points when a few are NaN, and notes it", () => {
    const points = planted(0.1, 0.02, 3);
    points[0] = { n: 1, x: Number.NaN };
    const result = fitPoints(points, opts);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.fit.dropped).toBe(1);
    expect(result.fit.notes.join(" ")).toMatch(/1 point\(s\)/);
    expect(Math.abs(result.fit.amdahl.s - 0.1)).toBeLessThan(0.03);
  });

  it("flags super-linear data and clips s at 0 instead of hiding it", () => {
    const points = [1, 2, 4, 8].flatMap((n) => [0, 1].map(() => ({ n, x: 100 * n ** 1.15 })));
    const result = fitPoints(points, opts);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.fit.amdahl.s).toBe(0);
    expect(result.fit.amdahl.superlinear).toBe(true);
    expect(result.fit.amdahl.sLinear).toBeLessThan(0);
    expect(result.fit.amdahl.ceilingSpeedup).toBeNull();
    expect(result.fit.notes.join(" ")).toMatch(/super-linear/);
  });

  it("gives no CI without repeats by default, and says why", () => {
    const result = fitPoints(planted(0.1, 0.02, 3, 1), opts);
    if (!result.ok) throw new Error(result.reason);
    expect(result.fit.amdahl.ci).toBeNull();
    expect(result.fit.amdahl.ciNote).toMatch(/^no repeats: run repeats ≥ 2/);
    expect(result.fit.notes.join(" ")).toMatch(/no CI for s: no repeats/);
  });

  it("resamples residuals only when asked (--ci residual), and labels it", () => {
    const result = fitPoints(planted(0.1, 0.02, 3, 1), { ...opts, ci: "residual" });
    if (!result.ok) throw new Error(result.reason);
    expect(result.fit.amdahl.ci?.method).toBe("residual");
    expect(result.fit.notes.join(" ")).toMatch(/residuals \(--ci residual, no repeats\)/);
  });

  it("reports no CI (with the reason) when there are repeats nowhere and only two points", () => {
    const result = fitPoints(planted(0.1, 0.02, 3, 1), { ...opts, bootstrap: 10 });
    if (!result.ok) throw new Error(result.reason);
    expect(result.fit.amdahl.ci).toBeNull();
    expect(result.fit.amdahl.ciNote).toMatch(/too small/);
  });

  it("predicts throughput at twice the largest N and the ceiling 1/s", () => {
    const result = fitPoints(planted(0.1, 0, 3), opts);
    if (!result.ok) throw new Error(result.reason);
    expect(result.fit.amdahl.predictAtN).toBe(16);
    expect(result.fit.amdahl.predicted).toBeCloseTo((800 * 16) / (1 + 0.1 * 15), 3);
    expect(result.fit.amdahl.ceilingSpeedup).toBeCloseTo(10, 4);
  });
});
