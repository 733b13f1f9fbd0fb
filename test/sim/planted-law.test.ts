import { describe, expect, it } from "vitest";
import { runClosedLoop } from "../../sim/engine/virtual-run.ts";
import { makeEngine, promptIds } from "./engine-helpers.ts";

const amdahl = (s: number, n: number) => 1 / (s + (1 - s) / n);

function throughputAt(tp: number, s: number): number {
  const result = runClosedLoop({
    engines: [makeEngine({ tp, s })],
    users: 512,
    // Distinct prompts; lengths vary deterministically so requests do not finish in lockstep
    // waves (a window cutting a wave in half would bias short runs).
    request: (user, k) => ({
      promptTokenIds: promptIds(200 + ((user * 31 + k * 17) % 200), user * 100_000 + k * 400),
      outputTokens: 50 + ((user * 7919 + k * 104_729) % 300),
    }),
    durationMs: 120_000,
    warmupMs: 20_000,
  });
  expect(result.preemptions).toBe(0);
  return result.outputTokensPerSec;
}

describe("planted Amdahl law in virtual time", () => {
  for (const s of [0.08, 0.2]) {
    it(`X(N)/X(1) follows s=${s} within 2% for TP 1, 2, 4, 8`, () => {
      const x1 = throughputAt(1, s);
      for (const n of [2, 4, 8]) {
        const ratio = throughputAt(n, s) / x1;
        expect(Math.abs(ratio / amdahl(s, n) - 1)).toBeLessThan(0.02);
      }
    });
  }

  it("a larger serial fraction scales worse (the law is not hard-coded)", () => {
    const at = (s: number) => throughputAt(8, s) / throughputAt(1, s);
    expect(at(0.05)).toBeGreaterThan(at(0.3) * 1.5);
  });
});

describe("data parallelism in virtual time", () => {
  // Replicas are independent: N of them behind the least-loaded router serve N× one replica's
  // throughput, and the router spreads the users evenly.
  it("DP = 2 and 4 scale linearly and share the load evenly", () => {
    const run = (dp: number) => {
      const perReplica = new Array<number>(dp).fill(0);
      const result = runClosedLoop({
        engines: Array.from({ length: dp }, () => makeEngine({ tp: 1 })),
        users: 256 * dp,
        request: (user, k) => ({
          promptTokenIds: promptIds(200 + ((user * 31 + k * 17) % 200), user * 100_000 + k * 400),
          outputTokens: 50 + ((user * 7919 + k * 104_729) % 300),
        }),
        durationMs: 60_000,
        warmupMs: 10_000,
        onStep: (replica, _plan, outcome) => {
          perReplica[replica] = (perReplica[replica] as number) + outcome.generationTokens;
        },
      });
      return { x: result.outputTokensPerSec, perReplica };
    };
    const one = run(1);
    for (const dp of [2, 4]) {
      const many = run(dp);
      expect(Math.abs(many.x / one.x / dp - 1)).toBeLessThan(0.02);
      const mean = many.perReplica.reduce((a, b) => a + b, 0) / dp;
      for (const tokens of many.perReplica) expect(Math.abs(tokens / mean - 1)).toBeLessThan(0.05);
    }
  });
});
