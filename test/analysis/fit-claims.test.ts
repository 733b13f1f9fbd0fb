/**
 * The fits claim only what their data support, planted: no USL (and no peak)
 * on Amdahl data, a USL peak where one was planted; Gustafson only for a load
 * grown with N, flagged outside [0, 1]; the super-linear note only beside a
 * reported s at its bound; the server-side and fitted s compared in words that
 * hold whichever is larger.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { amdahlThroughput } from "../../analysis/fit/amdahl.ts";
import { fitPoints } from "../../analysis/fit/fit-group.ts";
import { loadScaling } from "../../analysis/fit/gustafson.ts";
import { formatFitTable, readFitTables, runFits } from "../../analysis/fit/index.ts";
import type { ScalingPoint } from "../../analysis/fit/points.ts";
import { uslThroughput } from "../../analysis/fit/usl.ts";
import { whySentence } from "../../analysis/why/why-table.ts";
import { createRng } from "../../stats/rng.ts";
import { amdahlRows, writeSyntheticSummary } from "./helpers/synthetic-summary.ts";

function noisy(
  law: (n: number) => number,
  gpus: readonly number[],
  seed: number,
  noise = 0.03,
): ScalingPoint[] {
  const rng = createRng(seed);
  return gpus.flatMap((n) => [1, 2, 3].map(() => ({ n, x: law(n) * (1 + noise * rng.normal()) })));
}

const amdahl = (n: number) => amdahlThroughput({ x1: 500, s: 0.08 }, n);
const opts = { bootstrap: 50, seed: 1 };

describe("USL is shown only when it beats Amdahl, N* only near the measured range", () => {
  it.each([[[1, 2, 4]], [[1, 2, 4, 8]]])(
    "never on Amdahl data with GPU counts %j (too few for USL's 3 parameters)",
    (gpus) => {
      for (let seed = 1; seed <= 30; seed++) {
        const fit = fitPoints(noisy(amdahl, gpus, seed), opts);
        if (!fit.ok) throw new Error(fit.reason);
        expect(fit.fit.usl.shown).toBe(false);
        expect(fit.fit.usl.peakN).toBeNull();
        expect(fit.fit.notes.join(" ")).not.toMatch(/USL|peak/);
        expect(formatFitTable(resultOf(fit.fit))).not.toMatch(/peak|lowers throughput/);
      }
    },
  );

  it("rarely on Amdahl data with 6 GPU counts (AICc's false positives), and never a peak there", () => {
    let shown = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const fit = fitPoints(noisy(amdahl, [1, 2, 3, 4, 6, 8], seed), opts);
      if (!fit.ok) throw new Error(fit.reason);
      if (fit.fit.usl.shown) shown++;
      expect(fit.fit.notes.join(" ")).not.toMatch(/lowers throughput/);
    }
    expect(shown).toBeLessThanOrEqual(3);
  });

  it("shows USL and claims the peak where one was planted (σ = 0.05, κ = 0.02: N* ≈ 6.9)", () => {
    const usl = (n: number) => uslThroughput({ lambda: 500, sigma: 0.05, kappa: 0.02 }, n);
    const fit = fitPoints(noisy(usl, [1, 2, 3, 4, 6, 8], 3, 0.01), opts);
    if (!fit.ok) throw new Error(fit.reason);
    expect(fit.fit.usl.shown).toBe(true);
    expect(fit.fit.usl.aiccUsl).toBeLessThan((fit.fit.usl.aiccAmdahl as number) - 2);
    expect(Math.abs((fit.fit.usl.peakN as number) - Math.sqrt(0.95 / 0.02))).toBeLessThan(1.5);
    expect(fit.fit.notes.join(" ")).toMatch(/peaks at N\* ≈ \d/);
  });
});

describe("the super-linear note describes the reported fit", () => {
  it("appears exactly when the reported s sits at its bound 0", () => {
    const linear = (n: number) => 500 * n;
    for (let seed = 1; seed <= 30; seed++) {
      const fit = fitPoints(noisy(linear, [1, 2, 4, 8], seed, 0.04), opts);
      if (!fit.ok) throw new Error(fit.reason);
      const { s, superlinear } = fit.fit.amdahl;
      expect(superlinear).toBe(s <= 1e-6);
      expect(fit.fit.notes.some((n) => n.startsWith("super-linear"))).toBe(superlinear);
    }
  });
});

describe("Gustafson only for a load grown with N", () => {
  it("reads the load's scaling from how it moved with N", () => {
    const at = (loads: number[]) => loads.map((load, i) => ({ n: 2 ** i, load }));
    expect(loadScaling(at([32, 32, 32, 32]), true)).toBe("strong");
    expect(loadScaling(at([16, 32, 64, 128]), true)).toBe("weak");
    // per_gpu 1.5 rounds: 2, 3, 6, 12 users.
    expect(loadScaling(at([2, 3, 6, 12]), true)).toBe("weak");
    expect(loadScaling(at([8, 32, 33, 40]), true)).toBe("unknown");
    expect(
      loadScaling(
        [
          { n: 1, load: 2.0 },
          { n: 2, load: 2.3 },
        ],
        false,
      ),
    ).toBe("unknown");
    expect(
      loadScaling(
        [
          { n: 1, load: null },
          { n: 2, load: 4 },
        ],
        true,
      ),
    ).toBe("unknown");
  });

  it("flags a Gustafson s outside [0, 1]", () => {
    // Scaled speedups above N: Gustafson's s comes out negative.
    const points = [1, 2, 4, 8].map((n) => ({ n, x: 100 * n * 1.1 ** Math.log2(n) }));
    const fit = fitPoints(points, { ...opts, scaling: "weak" });
    if (!fit.ok) throw new Error(fit.reason);
    expect(fit.fit.gustafson.s).toBeLessThan(0);
    expect(fit.fit.notes.join(" ")).toMatch(/Gustafson's s = -\d.* outside \[0, 1\]/);
  });

  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vscale-fit-claims-"));
    const weak = [1, 2, 4, 8].flatMap((gpus) =>
      [1, 2].map((repeat) => ({
        experiment_id: `w-g${gpus}-r${repeat}`,
        repeat,
        gpus,
        tp: gpus,
        dp: 1,
        users: null,
        load_users: 16 * gpus,
        prompt_set: "long",
        output_tokens_per_s: 100 * (gpus - 0.1 * (gpus - 1)) * (repeat === 1 ? 1.01 : 0.99),
      })),
    );
    await writeSyntheticSummary(dir, [
      ...amdahlRows({ s: 0.08, seed: 5, gpus: [1, 2, 4] }),
      ...amdahlRows({ s: 0.08, seed: 6, users: 8, gpus: [1, 2, 4] }),
      ...weak,
    ]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints no Gustafson line and no USL peak for fixed-load groups on 3 GPU counts, one line for the weak-scaling group", async () => {
    const result = await runFits({ resultsDir: dir, bootstrap: 50, seed: 1 });
    const scaling = Object.fromEntries(result.groups.map((g) => [g.label, g.gustafson.scaling]));
    expect(Object.values(scaling).sort()).toEqual(["strong", "strong", "weak"]);
    for (const g of result.groups.filter((g) => g.gustafson.scaling === "strong")) {
      expect(g.gustafson.s).toBeNull();
      expect(g.gustafson.points).toEqual([]);
    }
    const weak = result.groups.find((g) => g.gustafson.scaling === "weak");
    expect(weak?.gustafson.s).toBeCloseTo(0.1, 2);
    const text = formatFitTable(result);
    const gustafsonLines = text.split("\n").filter((l) => /→ s = /.test(l));
    expect(gustafsonLines).toHaveLength(1);
    expect(gustafsonLines[0]).toContain(weak?.label);
    expect(text).toMatch(/Gustafson: not shown for 2 group\(s\)/);
    expect(text).not.toMatch(/peak|lowers throughput/);
    // The fit tables carry the scaling and Gustafson's figures back as they were.
    expect(await readFitTables(dir)).toEqual({ ...result, files: [] });
  });
});

describe("server-side against fitted s", () => {
  const server = (s: number, low: number, high: number) => ({ s, low, high, comparisons: 6 });

  it("says how many times the fitted s, in words true whichever is larger", () => {
    const larger = whySentence(0.08, server(0.099, 0.095, 0.103), { low: 0.07, high: 0.09 });
    expect(larger).toMatch(/is 1\.24× the fitted s = 0\.080 \[0\.070, 0\.090\]/);
    expect(larger).toMatch(/more to serial work than the throughput shows/);
    expect(larger).not.toMatch(/accounts for/);
    const smaller = whySentence(0.08, server(0.04, 0.035, 0.045), { low: 0.07, high: 0.09 });
    expect(smaller).toMatch(/is 0\.50× the fitted s/);
    expect(smaller).toMatch(/the rest lies outside them/);
    const agree = whySentence(0.08, server(0.083, 0.082, 0.084), { low: 0.07, high: 0.09 });
    expect(agree).toMatch(/agree within their 95% intervals/);
  });
});

function resultOf(fit: import("../../analysis/fit/model.ts").PointsFit) {
  return {
    metric: "output_tokens_per_s" as const,
    by: ["campaign"],
    bootstrap: 50,
    seed: 1,
    ci: "runs" as const,
    excludeClientLimited: false,
    groups: [{ ...fit, group: "g", label: "g", key: {}, experiments: [] }],
    skipped: [],
    files: [],
  };
}
