/**
 * The comparison's statistics against planted truth, in memory (the pure
 * core's own input: one RunSample per run). Runs differ by a planted
 * run-to-run offset on top of request-level noise: an interval that
 * resamples requests only is far too narrow and calls an A/A pair a change;
 * resampling runs first must not. With one run a side the interval is
 * within-run, says so, and the noise floor keeps a small change from being a regression.
 */
import { describe, expect, it } from "vitest";
import {
  bootstrapChanges,
  MIN_REQUESTS,
  type RunSample,
} from "../../analysis/compare/bootstrap-change.ts";
import { isRegression, judgeSet, NOISE_FLOOR } from "../../analysis/compare/verdict.ts";
import { createRng, type Rng } from "../../stats/rng.ts";

/** A run whose level is `level` × a planted run effect (sd `runSd`), with `n` requests. */
function run(rng: Rng, level: number, runSd: number, n = 200): RunSample {
  const effect = level * (1 + runSd * rng.normal());
  const lat = () => Array.from({ length: n }, () => 50 * effect * (0.6 + 0.8 * rng.next()));
  const bins = Array.from({ length: 10 }, () => (1000 / effect) * (1 + 0.02 * rng.normal()));
  return {
    ttftMs: lat(),
    tpotMs: lat(),
    e2eMs: lat(),
    outputTokensPerS: bins.reduce((s, x) => s + x, 0) / bins.length,
    binRates: bins,
  };
}

const side = (rng: Rng, runs: number, level = 1, runSd = 0.1, n = 200) =>
  Array.from({ length: runs }, () => run(rng, level, runSd, n));

describe("hierarchical bootstrap", () => {
  it("covers no change in A/A pairs with run-to-run variance (6 runs a side), where pooled requests do not", () => {
    const rng = createRng(11);
    const trials = 40;
    let covered = 0;
    let pooledCovered = 0;
    for (let t = 0; t < trials; t++) {
      const [a, b] = [side(rng, 6, 1, 0.2, 100), side(rng, 6, 1, 0.2, 100)];
      const c = bootstrapChanges(a, b, 200, t).tpot_ms_p50;
      expect(c.method).toBe("runs, then requests");
      if (c.low! <= 0 && 0 <= c.high!) covered++;
      // The same figure's interval when the runs are pooled into one (requests resampled only).
      const pool = (runs: RunSample[]) => ({ ...runs[0]!, tpotMs: runs.flatMap((r) => r.tpotMs) });
      const p = bootstrapChanges([pool(a)], [pool(b)], 200, t).tpot_ms_p50;
      if (p.low! <= 0 && 0 <= p.high!) pooledCovered++;
    }
    expect(covered / trials).toBeGreaterThanOrEqual(0.85);
    expect(pooledCovered / trials).toBeLessThan(0.5);
  });

  it("finds a planted 20% slowdown from runs, names the method and the n of runs and requests", () => {
    const rng = createRng(5);
    const v = judgeSet(side(rng, 3, 1, 0.02), side(rng, 3, 1.2, 0.02), {
      threshold: 0.05,
      bootstrap: 500,
      seed: 1,
    });
    expect(v.fromRuns).toBe(true);
    const tput = v.changes.find((c) => c.metric === "output_tokens_per_s")!;
    expect(tput).toMatchObject({ method: "runs", runsA: 3, runsB: 3, nA: 3, nB: 3 });
    // The floor for means of 3 runs a side: the single-run floor × √(1/3).
    expect(tput.floor).toBeCloseTo(NOISE_FLOOR.output_tokens_per_s * Math.sqrt(1 / 3), 10);
    expect(tput.change!).toBeCloseTo(1 / 1.2 - 1, 1);
    expect(tput.regression).toBe(true);
    const ttft = v.changes.find((c) => c.metric === "ttft_ms_p50")!;
    expect(ttft).toMatchObject({ method: "runs, then requests", nA: 600, nB: 600 });
    expect(ttft.regression).toBe(true);
  });

  it("is seeded: the same inputs and seed give the same interval", () => {
    const rng = createRng(9);
    const [a, b] = [side(rng, 2), side(rng, 2)];
    expect(bootstrapChanges(a, b, 200, 3)).toEqual(bootstrapChanges(a, b, 200, 3));
    expect(bootstrapChanges(a, b, 200, 3).e2e_ms_p50.low).not.toBe(
      bootstrapChanges(a, b, 200, 4).e2e_ms_p50.low,
    );
  });
});

describe("one run a side", () => {
  it("makes within-run intervals and calls nothing below the noise floor a regression", () => {
    const rng = createRng(3);
    // No run effect: the within-run interval is tight and excludes 0 for a modest change.
    const a = [run(rng, 1, 0)];
    const small = 1 + NOISE_FLOOR.output_tokens_per_s * 0.7;
    const v = judgeSet(a, [run(rng, small, 0)], { threshold: 0.05, bootstrap: 500, seed: 1 });
    expect(v.fromRuns).toBe(false);
    const tput = v.changes.find((c) => c.metric === "output_tokens_per_s")!;
    expect(tput.method).toBe("time bins within runs");
    expect(tput.high!).toBeLessThan(0);
    expect(-tput.change!).toBeGreaterThan(0.05);
    expect(tput.floor).toBe(NOISE_FLOOR.output_tokens_per_s);
    expect(tput.regression).toBe(false);
    // The same change and interval from means of 20 runs a side (a floor × √(1/20)) would be one.
    expect(isRegression("output_tokens_per_s", { ...tput, runsA: 20, runsB: 20 }, 0.05)).toBe(true);

    const big = judgeSet(a, [run(rng, 2, 0)], { threshold: 0.05, bootstrap: 500, seed: 1 });
    expect(big.changes.find((c) => c.metric === "output_tokens_per_s")!.regression).toBe(true);
    expect(big.changes.find((c) => c.metric === "e2e_ms_p50")!).toMatchObject({
      method: "requests within runs",
      regression: true,
    });
  });

  it("gives no percentile from fewer requests than its minimum, and says why", () => {
    const rng = createRng(4);
    const few = [run(rng, 1, 0, MIN_REQUESTS[99] - 1)];
    const c = bootstrapChanges(few, few, 100, 1);
    expect(c.ttft_ms_p99).toMatchObject({ change: null, low: null });
    expect(c.ttft_ms_p99.flag).toMatch(/fewer than 100 requests/);
    expect(c.ttft_ms_p50.change).toBe(0);
  });
});
