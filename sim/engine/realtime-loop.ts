/**
 * Runs one engine in real time: plan a step, wait until its modelled end,
 * apply it, repeat; sleep while idle until `wake()`.
 *
 * Steps are back to back on the modelled clock: the next step starts at the
 * previous step's *scheduled* end, not when its outputs have been handled, as
 * vLLM's engine core keeps the GPU busy while the API server streams. So the
 * time spent writing a step's tokens does not stretch the steps (which would
 * flatten throughput at high TP and bias the planted law). When a step ends
 * more than CATCH_UP_LIMIT_MS late, the process is overloaded: the clock is
 * re-anchored to now rather than running a burst of catch-up steps.
 *
 * Timers fire up to a millisecond early or late, so the last SPIN_MS before a
 * step end is awaited with `setImmediate` — only for steps long enough that
 * this costs a small share of a core. Every step's lateness (actual −
 * scheduled end) is recorded as jitter.
 */
import { performance } from "node:perf_hooks";
import type { Engine, StepOutcome, StepPlan } from "./scheduler.ts";

export type StepListener = (plan: StepPlan, outcome: StepOutcome) => void;

/** Lateness samples are kept in a ring so a long run does not grow memory. */
const JITTER_SAMPLES = 65_536;
/** Lateness beyond this is not caught up (the process is overloaded, not jittery). */
export const CATCH_UP_LIMIT_MS = 10;
/** Busy-wait (setImmediate) this close to a step end… */
const SPIN_MS = 1;
/**
 * …but only for steps at least this long, so spinning takes at most a tenth of a core
 * (the load engine may share the machine). Shorter steps wait on a plain timer: their
 * lateness (about a millisecond) shifts delivery but not throughput, as steps are anchored.
 */
const MIN_SPIN_STEP_MS = 10 * SPIN_MS;

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
    this.immediate = setImmediate(() => this.runStep(this.now()));
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

  /** Forget the lateness samples (a benchmark's warm-up). */
  resetJitter(): void {
    this.jitterCount = 0;
  }

  /** Plan and run the step that starts at `startMs` on the modelled clock. */
  private runStep(startMs: number): void {
    this.immediate = undefined;
    this.timer = undefined;
    if (this.stopped) return;
    if (this.now() < this.pauseUntilMs) {
      this.waitUntil(this.pauseUntilMs, false, () => this.runStep(this.now()));
      return;
    }
    const plan = this.engine.schedule(startMs);
    if (!plan) {
      this.busy = false;
      return;
    }
    const scheduledEnd = startMs + plan.cost.totalMs;
    this.waitUntil(scheduledEnd, plan.cost.totalMs >= MIN_SPIN_STEP_MS, () => {
      const end = this.now();
      const lateness = end - scheduledEnd;
      this.jitter[this.jitterCount % JITTER_SAMPLES] = lateness;
      this.jitterCount++;
      const outcome = this.engine.complete(plan, end);
      this.onStep(plan, outcome);
      this.runStep(lateness <= CATCH_UP_LIMIT_MS ? scheduledEnd : end);
    });
  }

  private waitUntil(targetMs: number, spin: boolean, then: () => void): void {
    if (this.stopped) return;
    const left = targetMs - this.now();
    if (left <= 0) {
      // Already due (catching up): still yield once, so sockets and stream writes get a turn.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        if (!this.stopped) then();
      });
    } else if (left > SPIN_MS || !spin) {
      this.timer = setTimeout(
        () => this.waitUntil(targetMs, spin, then),
        spin ? left - SPIN_MS : left,
      );
    } else {
      this.immediate = setImmediate(() => this.waitUntil(targetMs, spin, then));
    }
  }
}
