import { describe, expect, it } from "vitest";
import { CATCH_UP_LIMIT_MS, RealtimeLoop } from "../../sim/engine/realtime-loop.ts";
import type { StepOutcome, StepPlan } from "../../sim/engine/scheduler.ts";
import { makeEngine, PROFILE, promptIds } from "./engine-helpers.ts";

interface Step {
  startMs: number;
  scheduledEndMs: number;
  endMs: number;
}

/** Hold the thread, as handling a large step's tokens does. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** Run one request to the end on a real engine; `handle` runs in every step's listener. */
async function runSteps(handle: (index: number) => void): Promise<Step[]> {
  // Decode steps of ≈20 ms on the default profile at batch 1.
  const engine = makeEngine({
    cost: { profile: PROFILE, tensorParallelSize: 1, serialFraction: 0.08, timeScale: 0.35 },
  });
  const steps: Step[] = [];
  const loop = new RealtimeLoop(engine, (plan: StepPlan, outcome: StepOutcome) => {
    steps.push({
      startMs: plan.startMs,
      scheduledEndMs: plan.startMs + plan.cost.totalMs,
      endMs: outcome.endMs,
    });
    handle(steps.length - 1);
  });
  engine.add({
    id: "r",
    promptTokenIds: promptIds(20),
    outputTokens: 12,
    finishReason: "length",
    arrivalMs: performance.now(),
  });
  loop.wake();
  for (let i = 0; i < 500 && engine.hasWork(); i++) await new Promise((r) => setTimeout(r, 5));
  loop.stop();
  expect(engine.hasWork()).toBe(false);
  expect(loop.jitterSamples()).toHaveLength(steps.length);
  return steps;
}

describe("RealtimeLoop", () => {
  it("starts each step at the previous step's scheduled end, not after its handling", async () => {
    const steps = await runSteps(() => busyFor(4));
    expect(steps).toHaveLength(12);
    let anchored = 0;
    for (let i = 1; i < steps.length; i++) {
      const step = steps[i] as Step;
      const previous = steps[i - 1] as Step;
      // Never before the previous step's modelled end, and never before it really ended.
      expect(step.startMs).toBeGreaterThanOrEqual(previous.scheduledEndMs);
      expect(step.endMs).toBeGreaterThanOrEqual(step.scheduledEndMs);
      if (step.startMs === previous.scheduledEndMs) anchored++;
    }
    // Handling took 4 ms per step; a loop that restarted after it would anchor none.
    // A loaded machine may make a step late beyond the catch-up limit now and then.
    expect(anchored).toBeGreaterThanOrEqual(8);
  });

  it("re-anchors to the real clock after a stall longer than the catch-up limit", async () => {
    const stallMs = CATCH_UP_LIMIT_MS + 40;
    const steps = await runSteps((index) => {
      if (index === 4) busyFor(stallMs);
    });
    // Step 5 was due ≈20 ms after step 4 ended but could only run after the stall.
    const late = steps[5] as Step;
    expect(late.endMs - late.scheduledEndMs).toBeGreaterThan(CATCH_UP_LIMIT_MS);
    // So step 6 starts when step 5 really ended: no burst of catch-up steps.
    expect((steps[6] as Step).startMs).toBe(late.endMs);
  });
});
