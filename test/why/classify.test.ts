/**
 * The classifier's precedence and edges on hand-set signals (the planted
 * campaigns cover the measured path): client first with the server-side
 * class kept as a hint, memory before scheduling, `none` when measured but
 * below every threshold, null when nothing was measured.
 */
import { describe, expect, it } from "vitest";
import { classify, THRESHOLDS } from "../../analysis/why/classify.ts";
import type { Signals } from "../../analysis/why/signals.ts";

const UNMEASURED: Signals = {
  clientLimited: null,
  gpuUtilMean: null,
  kvCacheUsageMax: null,
  preemptions: null,
  waitingMean: null,
  runningMean: null,
  maxNumSeqs: null,
  maxNumBatchedTokens: null,
  steps: null,
  scheduleUpdateShare: null,
  executeShare: null,
  batchTokensMean: null,
  promptPrefixShare: null,
  prefixHitRate: null,
  prefixCaching: null,
};

const quiet: Signals = {
  ...UNMEASURED,
  clientLimited: false,
  gpuUtilMean: 40,
  kvCacheUsageMax: 0.2,
  preemptions: 0,
  waitingMean: 0,
  runningMean: 2,
};

describe("classify", () => {
  it("puts the client first and keeps the server-side class in the evidence", () => {
    const c = classify({ ...quiet, clientLimited: true, preemptions: 3 });
    expect(c.bottleneck).toBe("client");
    expect(c.evidence).toContain("server: memory (server_preemptions=3");
  });

  it("says memory before scheduling when the KV cache is full and requests wait", () => {
    const full = {
      ...quiet,
      kvCacheUsageMax: 0.99,
      waitingMean: 5,
      runningMean: 16,
      maxNumSeqs: 16,
    };
    expect(classify(full).bottleneck).toBe("memory");
    expect(classify({ ...full, kvCacheUsageMax: 0.5 }).bottleneck).toBe("scheduling");
  });

  it("reads a slow scheduler from the step phases", () => {
    const slow = { ...quiet, scheduleUpdateShare: THRESHOLDS.scheduleShare + 0.01 };
    expect(classify(slow).bottleneck).toBe("scheduling");
    expect(classify({ ...slow, scheduleUpdateShare: 0.045 }).bottleneck).toBe("none");
  });

  it("needs the GPU busy for compute, or without GPU samples a batched execute-bound step", () => {
    expect(classify({ ...quiet, gpuUtilMean: 95 }).bottleneck).toBe("compute");
    const sim = { ...quiet, gpuUtilMean: null, executeShare: 0.95, runningMean: 8 };
    expect(classify(sim).bottleneck).toBe("compute");
    expect(classify({ ...sim, runningMean: 1 }).bottleneck).toBe("none");
  });

  it("says cache for shared prefixes recomputed: caching off, or hits far below the share", () => {
    const shared = { ...quiet, promptPrefixShare: 0.8 };
    const off = classify({ ...shared, prefixCaching: false });
    expect(off.bottleneck).toBe("cache");
    expect(off.evidence).toBe("prompt_prefix_share=0.800 (>=0.3); prefix_caching=false");
    const missed = { ...shared, prefixCaching: true, prefixHitRate: 0.1 };
    expect(classify(missed).bottleneck).toBe("cache");
    expect(classify({ ...missed, prefixHitRate: 0.7 }).bottleneck).toBe("none");
    // No shared prefixes to reuse: caching off is no bottleneck.
    const unshared = { ...quiet, promptPrefixShare: THRESHOLDS.prefixShare - 0.01 };
    expect(classify({ ...unshared, prefixCaching: false }).bottleneck).toBe("none");
    // After memory (evictions explain the misses), before scheduling (recomputed prefixes fill the budget).
    expect(classify({ ...missed, preemptions: 2 }).bottleneck).toBe("memory");
    expect(classify({ ...missed, scheduleUpdateShare: 0.5 }).bottleneck).toBe("cache");
  });

  it("is null when no signal was measured", () => {
    const c = classify(UNMEASURED);
    expect(c.bottleneck).toBeNull();
    expect(c.evidence).toMatch(/no client, GPU/);
  });
});
