/**
 * Drive engines in virtual time: no timers, no sockets. Each replica advances
 * its own clock step by step; the next event processed is always the earliest
 * step end across replicas, so a run is exact and takes milliseconds.
 */
import { pickLeastLoaded } from "./router.ts";
import type { Engine, NewRequest, Sequence, StepOutcome, StepPlan } from "./scheduler.ts";

export interface VirtualRequest {
  promptTokenIds: readonly number[];
  outputTokens: number;
}

export interface ClosedLoopOptions {
  engines: Engine[];
  /** Concurrent users; each sends its next request as soon as the previous finishes. */
  users: number;
  /** The request user `u` sends as its `k`-th. */
  request(user: number, k: number): VirtualRequest;
  /** Stop sending at this virtual time; in-flight requests still finish. */
  durationMs: number;
  /** Only tokens produced at or after this time count towards throughput. */
  warmupMs?: number;
  /**
   * When user `u` sends its first request (default 0 for all): a staggered
   * start, as a load client's spawn rate gives, instead of one lock-step wave.
   */
  startMs?(user: number): number;
  onStep?(replica: number, plan: StepPlan, outcome: StepOutcome): void;
}

export interface VirtualRunResult {
  /** Output tokens per second of virtual time inside the measured window. */
  outputTokensPerSec: number;
  requestsFinished: number;
  outputTokens: number;
  windowMs: number;
  preemptions: number;
  steps: number;
}

/** Run a closed loop of `users` against the engines until `durationMs` of virtual time. */
export function runClosedLoop(options: ClosedLoopOptions): VirtualRunResult {
  const { engines, users, durationMs } = options;
  const warmupMs = options.warmupMs ?? 0;
  const clocks = engines.map(() => 0);
  const inFlight: (StepPlan | null)[] = engines.map(() => null);
  const owner = new Map<string, number>();
  const sent = new Array<number>(users).fill(0);
  let nextId = 0;
  let outputTokens = 0;
  let finished = 0;
  let steps = 0;

  const submit = (user: number, nowMs: number): void => {
    if (nowMs >= durationMs) return;
    const spec = options.request(user, sent[user] as number);
    sent[user] = (sent[user] as number) + 1;
    const replica = pickLeastLoaded(engines);
    const id = `v${nextId++}`;
    owner.set(id, user);
    const request: NewRequest = {
      id,
      promptTokenIds: spec.promptTokenIds,
      outputTokens: spec.outputTokens,
      finishReason: "length",
      arrivalMs: nowMs,
    };
    (engines[replica] as Engine).add(request);
    // An idle replica starts working when the request arrives, not before.
    if (inFlight[replica] === null) clocks[replica] = Math.max(clocks[replica] as number, nowMs);
  };

  // First sends, latest first so the next one due is popped from the end.
  const starts = Array.from({ length: users }, (_, u) => ({
    user: u,
    at: Math.max(0, options.startMs?.(u) ?? 0),
  })).sort((a, b) => b.at - a.at || b.user - a.user);
  const startDue = (limitMs: number): void => {
    while (starts.length > 0 && (starts[starts.length - 1] as { at: number }).at <= limitMs) {
      const { user, at } = starts.pop() as { user: number; at: number };
      submit(user, at);
    }
  };
  startDue(0);

  for (;;) {
    // Start a step on every idle replica that has work.
    for (let r = 0; r < engines.length; r++) {
      if (inFlight[r] === null) inFlight[r] = (engines[r] as Engine).schedule(clocks[r] as number);
    }
    let next = -1;
    let nextEnd = Number.POSITIVE_INFINITY;
    for (let r = 0; r < engines.length; r++) {
      const plan = inFlight[r];
      if (plan && plan.startMs + plan.cost.totalMs < nextEnd) {
        next = r;
        nextEnd = plan.startMs + plan.cost.totalMs;
      }
    }
    // A user due to start before the next step ends (or while every replica idles) joins now.
    const due = starts[starts.length - 1];
    if (due && due.at < nextEnd) {
      startDue(due.at);
      continue;
    }
    if (next < 0) break;
    const plan = inFlight[next] as StepPlan;
    inFlight[next] = null;
    clocks[next] = nextEnd;
    const outcome = (engines[next] as Engine).complete(plan, nextEnd);
    steps++;
    options.onStep?.(next, plan, outcome);
    if (nextEnd >= warmupMs && nextEnd <= durationMs) outputTokens += outcome.generationTokens;
    const done: Sequence[] = [...outcome.finished, ...plan.rejected];
    for (const seq of done) {
      finished++;
      const user = owner.get(seq.id) as number;
      owner.delete(seq.id);
      submit(user, nextEnd);
    }
  }
  const windowMs = durationMs - warmupMs;
  return {
    outputTokensPerSec: (outputTokens / windowMs) * 1000,
    requestsFinished: finished,
    outputTokens,
    windowMs,
    preemptions: engines.reduce((sum, e) => sum + e.preemptions, 0),
    steps,
  };
}
