/**
 * Arrival schedules, as values. Closed loop is Locust's model (seed 004):
 * `users` virtual users, started `spawnRate` per second, each sending its next
 * request when the previous reply ends (plus think time). Open loop is
 * `vllm bench serve`'s: inter-arrival gaps drawn from a gamma distribution with
 * shape = burstiness and scale = 1 / (rate · burstiness), so the mean rate is
 * `rate` whatever the burstiness; burstiness 1 is Poisson, constant is 1/rate.
 */
import type { ControlledScenario } from "../../config/scenarios.ts";
import { createRng, type Rng } from "../../stats/rng.ts";

export interface ClosedLoopSchedule {
  mode: "closed";
  users: number;
  /** Users started per second; absent = all at once. */
  spawnRate?: number;
  thinkTimeMs: number;
  /** Multi-turn sessions: each user's requests form conversations of this many turns (sessions.ts). */
  turns?: number;
  /** A controlled batching scenario of `users` = B (scenarios.ts); absent: a free-running loop. */
  scenario?: ControlledScenario;
}

export type ArrivalKind = "constant" | "poisson" | "gamma";

export interface OpenLoopSchedule {
  mode: "open";
  /** Mean requests per second. */
  rate: number;
  arrival: ArrivalKind;
  /** Gamma shape: 1 = Poisson, < 1 burstier, > 1 smoother (gamma only). */
  burstiness: number;
  /** Cap on requests in flight; arrivals beyond it wait for a free slot. */
  maxConcurrency?: number;
}

export type LoadSchedule = ClosedLoopSchedule | OpenLoopSchedule;

/** Random stream ids derived from the run seed (see `createRng`). */
export const RNG_STREAM = { arrivals: 1, openPrompts: 2, closedPrompts: 3 } as const;

/** When closed-loop user `index` (0-based) starts, in ms after the run start. */
export function userStartOffsetMs(index: number, spawnRate?: number): number {
  return spawnRate === undefined ? 0 : (index / spawnRate) * 1000;
}

/** One inter-arrival gap in ms. */
export function interArrivalMs(rng: Rng, schedule: OpenLoopSchedule): number {
  const meanMs = 1000 / schedule.rate;
  switch (schedule.arrival) {
    case "constant":
      return meanMs;
    case "poisson":
      return rng.exponential(meanMs);
    case "gamma":
      return rng.gamma(schedule.burstiness, meanMs / schedule.burstiness);
  }
}

/**
 * Open-loop arrival times (ms after the run start), lazily. The first request
 * goes at 0 for constant arrivals and after one drawn gap otherwise, so that
 * the count in any window follows the distribution.
 */
export class OpenArrivals {
  private readonly rng: Rng;
  private nextAtMs: number;

  constructor(
    private readonly schedule: OpenLoopSchedule,
    seed: number,
  ) {
    this.rng = createRng(seed, RNG_STREAM.arrivals);
    this.nextAtMs = schedule.arrival === "constant" ? 0 : interArrivalMs(this.rng, schedule);
  }

  /** The next arrival time; each call advances. */
  next(): number {
    const at = this.nextAtMs;
    this.nextAtMs += interArrivalMs(this.rng, this.schedule);
    return at;
  }
}

/** Every arrival before `horizonMs` (k6 bins these; tests check their statistics). */
export function openArrivalTimesMs(
  schedule: OpenLoopSchedule,
  seed: number,
  horizonMs: number,
): number[] {
  const arrivals = new OpenArrivals(schedule, seed);
  const times: number[] = [];
  for (let at = arrivals.next(); at < horizonMs; at = arrivals.next()) times.push(at);
  return times;
}
