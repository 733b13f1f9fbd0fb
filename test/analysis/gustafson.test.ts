/**
 * Weak scaling, planted: exact Gustafson data gives back its serial
 * fraction; and on the simulator's engine (virtual time, exact), a load grown
 * with N (64 users per GPU, as `users: {per_gpu: 64}` expands) gives the
 * scaled speedup the planted step costs imply, which the fit reports beside Amdahl's.
 */
import { describe, expect, it } from "vitest";
import { fitPoints } from "../../analysis/fit/fit-group.ts";
import { fitGustafson } from "../../analysis/fit/gustafson.ts";
import { resolvePerGpu } from "../../config/weak-scaling.ts";
import { stepCost } from "../../sim/engine/cost-model.ts";
import { runClosedLoop } from "../../sim/engine/virtual-run.ts";
import { makeEngine, PROFILE, promptIds } from "../sim/engine-helpers.ts";

describe("Gustafson's serial fraction", () => {
  it("exact Gustafson data S(N) = N − s(N − 1) gives back s", () => {
    const s = 0.15;
    const points = [1, 2, 4, 8].flatMap((n) => [{ n, x: 100 * (n - s * (n - 1)) }]);
    const g = fitGustafson(points, 100);
    expect(g.s).toBeCloseTo(s, 10);
    expect(g.points.map((p) => p.speedup)).toEqual([2, 4, 8].map((n) => n - s * (n - 1)));
  });
});

describe("weak scaling on the simulator", () => {
  const S = 0.1;
  const PER_GPU = 64;
  const PROMPT = 16;
  const OUTPUT = 512;

  /** Output tokens per ms the planted costs imply: a full decode batch of `users` every step. */
  const implied = (n: number) => {
    const users = PER_GPU * n;
    const cost = stepCost(
      { profile: PROFILE, tensorParallelSize: n, serialFraction: S, timeScale: 1 },
      {
        prefillTokens: 0,
        decodeSeqs: users,
        contextTokens: users * (PROMPT + OUTPUT / 2),
        requests: users,
      },
    );
    return users / cost.totalMs;
  };

  it("the fit's scaled speedup matches the planted costs within 5%, and Gustafson's s with it", () => {
    const gpus = [1, 2, 4, 8];
    const points = gpus.map((n) => {
      const users = resolvePerGpu({ per_gpu: PER_GPU }, n, true) as number;
      const run = runClosedLoop({
        // Room for 64 × 8 sequences: the batch cap must not be what limits N = 8.
        engines: [makeEngine({ tp: n, s: S, maxNumSeqs: 1024 })],
        users,
        request: (user, k) => ({
          promptTokenIds: promptIds(PROMPT, user * 100_000 + k * 1_000),
          outputTokens: OUTPUT,
        }),
        durationMs: 60_000,
        warmupMs: 10_000,
      });
      return { n, x: run.outputTokensPerSec };
    });
    const fit = fitPoints(points, { bootstrap: 0, seed: 1, scaling: "weak" });
    if (!fit.ok) throw new Error(fit.reason);
    const expected = gpus.filter((n) => n > 1).map((n) => implied(n) / implied(1));
    fit.fit.gustafson.points.forEach((p, i) => {
      expect(Math.abs(p.speedup / expected[i]! - 1)).toBeLessThan(0.05);
    });
    const impliedS = fitGustafson(
      gpus.map((n) => ({ n, x: implied(n) })),
      implied(1),
    ).s!;
    expect(Math.abs(fit.fit.gustafson.s! - impliedS)).toBeLessThan(0.03);
    // Weak scaling is not strong scaling: the grown load scales far better than Amdahl's 1/(s + (1 − s)/N).
    expect(fit.fit.gustafson.points.at(-1)!.speedup).toBeGreaterThan(1 / (S + (1 - S) / 8));
  });
});
