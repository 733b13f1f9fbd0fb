import { describe, expect, it } from "vitest";
import { amdahlThroughput } from "../../analysis/fit/amdahl.ts";
import { karpFlatt } from "../../analysis/fit/karp-flatt.ts";
import type { ScalingPoint } from "../../analysis/fit/points.ts";
import { fitUsl, uslThroughput } from "../../analysis/fit/usl.ts";
import { createRng } from "../../stats/rng.ts";

describe("fitUsl", () => {
  it.each([
    [0.05, 0.001],
    [0.1, 0.0005],
    [0.02, 0.003],
  ])("recovers planted σ = %s, κ = %s and the peak N*", (sigma, kappa) => {
    const rng = createRng(3);
    const points: ScalingPoint[] = [];
    for (const n of [1, 2, 4, 8, 16, 32, 64])
      for (let r = 0; r < 3; r++)
        points.push({
          n,
          x: uslThroughput({ lambda: 300, sigma, kappa }, n) * (1 + 0.005 * rng.normal()),
        });
    const fit = fitUsl(points);
    expect(Math.abs(fit.sigma - sigma)).toBeLessThan(0.01);
    expect(Math.abs(fit.kappa - kappa) / kappa).toBeLessThan(0.15);
    expect(fit.lambda).toBeCloseTo(300, -1);
    expect(fit.peakN).not.toBeNull();
    expect(Math.abs((fit.peakN ?? 0) - Math.sqrt((1 - sigma) / kappa))).toBeLessThan(3);
  });

  it("finds κ = 0 and no peak on pure Amdahl data", () => {
    const points = [1, 2, 4, 8, 16].map((n) => ({ n, x: amdahlThroughput({ x1: 50, s: 0.1 }, n) }));
    const fit = fitUsl(points, { x1: 50, s: 0.1 });
    expect(fit.kappa).toBeLessThan(1e-6);
    expect(fit.sigma).toBeCloseTo(0.1, 4);
  });
});

describe("karpFlatt", () => {
  it.each([0.02, 0.1, 0.3])("is constant and equal to s on exact Amdahl data (s = %s)", (s) => {
    const points = [1, 2, 4, 8, 16].map((n) => ({ n, x: amdahlThroughput({ x1: 70, s }, n) }));
    const kf = karpFlatt(points, 70);
    expect(kf.baseline).toBe("measured");
    expect(kf.points.map((p) => p.n)).toEqual([2, 4, 8, 16]);
    for (const p of kf.points) expect(p.e).toBeCloseTo(s, 10);
    expect(kf.trend).toBe("flat");
  });

  it("says rising when overhead grows with N (USL data with κ > 0)", () => {
    const points = [1, 2, 4, 8, 16].map((n) => ({
      n,
      x: uslThroughput({ lambda: 70, sigma: 0.05, kappa: 0.01 }, n),
    }));
    expect(karpFlatt(points, 70).trend).toBe("rising");
  });

  it("uses the fitted X1 when N = 1 was not run", () => {
    const points = [2, 4, 8].map((n) => ({ n, x: amdahlThroughput({ x1: 70, s: 0.1 }, n) }));
    const kf = karpFlatt(points, 70);
    expect(kf.baseline).toBe("fitted");
    for (const p of kf.points) expect(p.e).toBeCloseTo(0.1, 10);
  });
});
