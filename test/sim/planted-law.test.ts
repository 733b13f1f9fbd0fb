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
