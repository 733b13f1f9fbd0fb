import { describe, expect, it } from "vitest";
import { amdahlThroughput, fitAmdahl } from "../../analysis/fit/amdahl.ts";
import { bootstrapS } from "../../analysis/fit/bootstrap.ts";
import type { ScalingPoint } from "../../analysis/fit/points.ts";
import { createRng } from "../../stats/rng.ts";

// 200 trials × B = 200 replicates per planted s: the coverage check.
const TRIALS = 200;
const B = 200;

describe("bootstrap CI for s", () => {
  it.each([0, 0.02, 0.1, 0.3])(
    "covers planted s = %s in at least 90 percent of 200 seeded trials (2 to 5 percent noise, N = 1, 2, 4, 8, 3 repeats)",
    (s) => {
      const rng = createRng(4242 + Math.round(s * 1000));
      let covered = 0;
      let width = 0;
      for (let t = 0; t < TRIALS; t++) {
        const noise = 0.02 + 0.03 * rng.next();
        const points: ScalingPoint[] = [];
        for (const n of [1, 2, 4, 8])
          for (let r = 0; r < 3; r++)
            points.push({ n, x: amdahlThroughput({ x1: 500, s }, n) * (1 + noise * rng.normal()) });
        const fit = fitAmdahl(points);
        const ci = bootstrapS(points, fit, { replicates: B, seed: t });
        if (!ci.ok) throw new Error(ci.reason);
        expect(ci.interval.low).toBeLessThanOrEqual(fit.s);
        expect(ci.interval.high).toBeGreaterThanOrEqual(fit.s);
        if (ci.interval.low <= s && s <= ci.interval.high) covered++;
        width += ci.interval.high - ci.interval.low;
      }
      expect(covered / TRIALS).toBeGreaterThanOrEqual(0.9);
      // Honest, not vacuous: the interval must not be the whole [0, 1].
      expect(width / TRIALS).toBeLessThan(0.15);
    },
  );

  it("is reproducible from its seed and changes with it", () => {
    const points = [1, 2, 4, 8].flatMap((n, i) =>
      [0.98, 1, 1.03].map((f) => ({
        n,
        x: amdahlThroughput({ x1: 100, s: 0.1 }, n) * f * (1 + i * 0.001),
      })),
    );
    const fit = fitAmdahl(points);
    const a = bootstrapS(points, fit, { replicates: 100, seed: 9 });
    const b = bootstrapS(points, fit, { replicates: 100, seed: 9 });
    const c = bootstrapS(points, fit, { replicates: 100, seed: 10 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

describe("bootstrap CI for s without repeats", () => {
  const points = [1, 2, 4, 8].map((n) => ({ n, x: amdahlThroughput({ x1: 500, s: 0.1 }, n) }));

  it("is none by default: runs are the unit of replication", () => {
    const ci = bootstrapS(points, fitAmdahl(points), { replicates: 100, seed: 1 });
    expect(ci).toEqual({
      ok: false,
      reason: expect.stringMatching(/^no repeats: run repeats ≥ 2/),
    });
  });

  it("is none when one GPU count has a single run, naming it", () => {
    const some = [...points, ...points.slice(0, 3).map((p) => ({ n: p.n, x: p.x * 1.01 }))];
    const ci = bootstrapS(some, fitAmdahl(some), { replicates: 100, seed: 1 });
    expect(ci).toEqual({ ok: false, reason: expect.stringMatching(/one run at N = 8/) });
  });
});

describe("bootstrap CI for s without repeats, residuals asked for (--ci residual)", () => {
  it.each([0.02, 0.1, 0.3])(
    "covers planted s = %s in at least 90 percent of 200 seeded trials with one point per N",
    (s) => {
      const rng = createRng(77 + Math.round(s * 1000));
      let covered = 0;
      for (let t = 0; t < TRIALS; t++) {
        const noise = 0.02 + 0.03 * rng.next();
        const points = [1, 2, 4, 8].map((n) => ({
          n,
          x: amdahlThroughput({ x1: 500, s }, n) * (1 + noise * rng.normal()),
        }));
        const fit = fitAmdahl(points);
        const ci = bootstrapS(points, fit, { replicates: B, seed: t, mode: "residual" });
        if (!ci.ok) throw new Error(ci.reason);
        expect(ci.interval.method).toBe("residual");
        if (ci.interval.low <= s && s <= ci.interval.high) covered++;
      }
      expect(covered / TRIALS).toBeGreaterThanOrEqual(0.9);
    },
  );

  it("refuses when there is no residual left to resample", () => {
    const points = [
      { n: 1, x: 100 },
      { n: 2, x: 190 },
    ];
    const ci = bootstrapS(points, fitAmdahl(points), {
      replicates: 100,
      seed: 1,
      mode: "residual",
    });
    expect(ci.ok).toBe(false);
  });
});
