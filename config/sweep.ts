/**
 * `load.sweep`: a rate sweep to saturation, as GuideLLM's `sweep` profile
 * (guidellm/benchmark/profiles: synchronous, throughput, then rates between
 * them) and `vllm bench sweep` offer it. Each sweep is a run of experiments
 * told apart by the `sweep_step` factor:
 *
 * - step 0, synchronous: one user, one request at a time (closed loop);
 * - step 1, throughput: `max_users` users at once (closed loop), the most the
 *   server completes;
 * - steps 2 … K + 1: open-loop arrivals (constant or Poisson) at rate
 *   r_sync + k/K · (r_max − r_sync), k = 1 … K, r from steps 0 and 1's
 *   measured request rates. The runner fills the rate in once those ran
 *   (campaign/sweep-steps.ts) and stops early on over-saturation.
 */
import { z } from "zod";
import { boundedInt } from "./values.ts";

export const SweepSchema = z.strictObject({
  /** K: open-loop rates between the synchronous and the throughput rate. */
  rates: boundedInt("sweep_rates"),
  /** Arrivals of the rate steps. */
  arrival: z.enum(["constant", "poisson"]).default("constant"),
  /** Users of the throughput step. */
  max_users: boundedInt("users").default(256),
  /**
   * Over-saturated when the achieved request rate is below this fraction of
   * the offered rate while the backlog (sent − finished in the window) grows.
   */
  achieved_below: z.number().gt(0).max(1).default(0.9),
});
export type SweepSpec = z.output<typeof SweepSchema>;

export const SWEEP_SYNC_STEP = 0;
export const SWEEP_THROUGHPUT_STEP = 1;

/** Every step of a sweep of K rates: 0 … K + 1. */
export function sweepSteps(sweep: SweepSpec): number[] {
  return Array.from({ length: sweep.rates + 2 }, (_, i) => i);
}

/** The offered rate of rate step `step` (≥ 2), from the measured synchronous and throughput rates. */
export function sweepRate(sweep: SweepSpec, step: number, syncRps: number, maxRps: number): number {
  const k = step - SWEEP_THROUGHPUT_STEP;
  const top = Math.max(maxRps, syncRps);
  return syncRps + (k / sweep.rates) * (top - syncRps);
}

/**
 * Over-saturation, from the second half of one rate step's window (the
 * first may still be filling up from empty): the server no longer keeps up
 * when it completes clearly less than it is offered (achieved < fraction ×
 * offered) and the number in flight keeps growing (by over 5% of the offered
 * rate). Either alone is noise: Poisson arrivals undershoot by chance, and a
 * queue filling towards its steady state grows for a while.
 */
export function overSaturated(
  sweep: SweepSpec,
  facts: { offeredRps: number; achievedRps: number; inFlightGrowthRps: number },
): string | null {
  const { offeredRps, achievedRps, inFlightGrowthRps } = facts;
  if (achievedRps < sweep.achieved_below * offeredRps && inFlightGrowthRps > 0.05 * offeredRps) {
    return `over-saturated at ${offeredRps.toFixed(2)} req/s offered: ${achievedRps.toFixed(2)} req/s achieved, ${inFlightGrowthRps.toFixed(2)} more in flight each second`;
  }
  return null;
}
