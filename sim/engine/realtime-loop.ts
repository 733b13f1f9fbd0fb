/**
 * Runs one engine in real time: plan a step, wait until its modelled end,
 * apply it, repeat; sleep while idle until `wake()`. Timers fire late by up to
 * a millisecond or more, so the last stretch is awaited with `setImmediate`,
 * and every step's lateness (actual − scheduled end) is recorded as jitter.
 */
import { performance } from "node:perf_hooks";
import type { Engine, StepOutcome, StepPlan } from "./scheduler.ts";

export type StepListener = (plan: StepPlan, outcome: StepOutcome) => void;

/** Lateness samples are kept in a ring so a long run does not grow memory. */
const JITTER_SAMPLES = 65_536;

export class RealtimeLoop {
  private readonly engine: Engine;
  private readonly onStep: StepListener;
  private readonly now: () => number;
  private busy = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly jitter = new Float64Array(JITTER_SAMPLES);
  private jitterCount = 0;
  /** Extra wall-clock pause before the next step (the stall fault). */
  private pauseUntilMs = 0;

  constructor(engine: Engine, onStep: StepListener, now: () => number = () => performance.now()) {
    this.engine = engine;
    this.onStep = onStep;
    this.now = now;
  }

  /** A request arrived: start stepping if idle. */
  wake(): void {
    if (this.busy || this.stopped) return;
    this.busy = true;
    // Defer so several requests arriving in the same tick join the same first step.
    this.immediate = setImmediate(() => this.runStep());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }

  /** Freeze the engine for `ms` of wall-clock time from now. */
  pause(ms: number): void {
    this.pauseUntilMs = Math.max(this.pauseUntilMs, this.now() + ms);
  }

  /** Lateness of step ends in ms (most recent samples). */
  jitterSamples(): number[] {
    const n = Math.min(this.jitterCount, JITTER_SAMPLES);
    return Array.from(this.jitter.subarray(0, n));
  }

  private runStep(): void {
    this.immediate = undefined;
    if (this.stopped) return;
    const start = this.now();
    if (start < this.pauseUntilMs) {
      this.waitUntil(this.pauseUntilMs, () => this.runStep());
      return;
    }
    const plan = this.engine.schedule(start);
    if (!plan) {
      this.busy = false;
      return;
    }
    const scheduledEnd = start + plan.cost.totalMs;
    this.waitUntil(scheduledEnd, () => {
      const end = this.now();
      this.jitter[this.jitterCount % JITTER_SAMPLES] = end - scheduledEnd;
      this.jitterCount++;
      const outcome = this.engine.complete(plan, end);
      this.onStep(plan, outcome);
      this.runStep();
    });
  }

  private waitUntil(targetMs: number, then: () => void): void {
    if (this.stopped) return;
    const left = targetMs - this.now();
    if (left <= 0) {
      then();
    } else if (left > 2) {
      this.timer = setTimeout(() => this.waitUntil(targetMs, then), left - 1.5);
    } else {
      this.immediate = setImmediate(() => this.waitUntil(targetMs, then));
    }
  }
}
