import { describe, expect, it } from "vitest";
import { stepCost } from "../../sim/engine/cost-model.ts";
import type { Engine, StepPlan } from "../../sim/engine/scheduler.ts";
import { makeEngine, PROFILE, promptIds } from "./engine-helpers.ts";

/** Run an engine to idle in virtual time; returns every plan. */
function drain(engine: Engine): StepPlan[] {
  const plans: StepPlan[] = [];
  let t = 0;
  for (let plan = engine.schedule(t); plan; plan = engine.schedule(t)) {
    plans.push(plan);
    t += plan.cost.totalMs;
    engine.complete(plan, t);
  }
  return plans;
}

const add = (engine: Engine, id: string, prompt: number, output: number, from = 0) =>
  engine.add({
    id,
    promptTokenIds: promptIds(prompt, from),
    outputTokens: output,
    finishReason: "length",
    arrivalMs: 0,
  });

describe("engine scheduler", () => {
  it("keeps the token budget and max_num_seqs every step, and chunks long prompts", () => {
    const engine = makeEngine({ maxNumBatchedTokens: 512, maxNumSeqs: 4 });
    for (let i = 0; i < 10; i++) add(engine, `r${i}`, 1500, 5, i * 10_000);
    const plans = drain(engine);
    for (const plan of plans) {
      expect(plan.chunks.reduce((s, c) => s + c.tokens, 0)).toBeLessThanOrEqual(512);
      expect(plan.chunks.length).toBeLessThanOrEqual(4);
    }
    // 1500-token prompts need three 512-token chunks: the first token comes after step 3.
    expect(plans[0]?.chunks[0]?.tokens).toBe(512);
    expect(engine.hasWork()).toBe(false);
  });

  it("preempts the newest request by recompute when blocks run out; all finish", () => {
    const engine = makeEngine({ numGpuBlocks: 30, blockSize: 16 });
    const seqs = Array.from({ length: 6 }, (_, i) => add(engine, `r${i}`, 100, 80, i * 1000));
    drain(engine);
    expect(engine.preemptions).toBeGreaterThan(0);
    for (const seq of seqs) {
      expect(seq.status).toBe("finished");
      expect(seq.numOutput).toBe(80);
    }
    expect(seqs.some((s) => s.numPreemptions > 0)).toBe(true);
    expect(engine.kv.usedBlocks()).toBe(0);
  });

  it("prefix caching reuses full blocks of a shared prompt", () => {
    const engine = makeEngine({ enablePrefixCaching: true });
    add(engine, "a", 160, 2);
    const first = drain(engine);
    add(engine, "b", 160, 2);
    const second = drain(engine);
    expect(first[0]?.prefixHits).toBe(0);
    // 10 full blocks cached, but the last one is recomputed so a token has logits.
    expect(second[0]?.prefixHits).toBe(144);
    expect(second[0]?.chunks[0]?.tokens).toBe(16);
  });

  it("abort frees blocks at once and drops the request from the batch", () => {
    const engine = makeEngine();
    add(engine, "a", 100, 50);
    const plan = engine.schedule(0) as StepPlan;
    expect(engine.kv.usedBlocks()).toBeGreaterThan(0);
    engine.abort("a", 1);
    expect(engine.kv.usedBlocks()).toBe(0);
    expect(engine.complete(plan, 10).tokens).toEqual([]);
    expect(engine.schedule(10)).toBeNull();
  });

  it("drops a prompt that can never fit the cache instead of spinning", () => {
    const engine = makeEngine({ numGpuBlocks: 4, blockSize: 16 });
    add(engine, "huge", 200, 1);
    const plan = engine.schedule(0) as StepPlan;
    expect(plan.rejected.map((s) => s.id)).toEqual(["huge"]);
    expect(engine.hasWork()).toBe(false);
  });

  it("step cost keeps the 95.5 / 2.7 / 1.8 phase split and divides by the time scale", () => {
    const batch = { prefillTokens: 0, decodeSeqs: 64, contextTokens: 64_000, requests: 64 };
    const params = { profile: PROFILE, tensorParallelSize: 1, serialFraction: 0.08, timeScale: 1 };
    const cost = stepCost(params, batch);
    expect(cost.executeMs / cost.totalMs).toBeCloseTo(0.955, 6);
    expect(cost.scheduleMs / cost.totalMs).toBeCloseTo(0.027, 6);
    expect(cost.totalMs).toBeGreaterThan(10);
    expect(cost.totalMs).toBeLessThan(40);
    expect(stepCost({ ...params, timeScale: 4 }, batch).totalMs).toBeCloseTo(cost.totalMs / 4, 9);
  });
});
