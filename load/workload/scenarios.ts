/**
 * Controlled batching scenarios (issue 14 §1, after seed 001's
 * `prefill_exp.sh` / `decode_exp.sh`): closed patterns that pin what every
 * server step computes, so one step's cost can be read off client timings.
 *
 * - `prefill-only`: waves of exactly B prompts of C tokens with
 *   `max_tokens: 1`; wave w + 1 goes out when every request of wave w has
 *   finished (a barrier), so each wave is B prefills and nothing else.
 * - `decode-only`: B long streams of short prompts with `ignore_eos`, each
 *   replaced when it ends (a closed loop of B users), so almost every step is a
 *   decode step at batch B.
 *
 * Both are closed-loop schedules of B users (`arrivals.ts`) marked with their
 * scenario; both engines read the rules from here. Pure: k6 loads it too.
 */
import type { ControlledScenario } from "../../config/scenarios.ts";
import type { ClosedLoopSchedule } from "./arrivals.ts";
import type { SamplingParams } from "./bodies.ts";

/** The closed-loop schedule of a scenario at batch `batchSize`. */
export function scenarioSchedule(
  scenario: ControlledScenario,
  batchSize: number,
): ClosedLoopSchedule {
  return { mode: "closed", users: batchSize, thinkTimeMs: 0, scenario };
}

/** The scenario a schedule runs, or null for a free-running (mixed) load. */
export function scenarioOf(schedule: { mode: string; scenario?: ControlledScenario }) {
  return schedule.mode === "closed" ? (schedule.scenario ?? null) : null;
}

/** What a scenario fixes in every body: one output token for prefill-only, no early stop for decode-only. */
export function scenarioSampling(
  scenario: ControlledScenario | null,
  sampling: SamplingParams,
): SamplingParams {
  if (scenario === "prefill-only") return { ...sampling, maxTokens: 1 };
  if (scenario === "decode-only") return { ...sampling, ignoreEos: true };
  return sampling;
}

/** The prompt user `user`'s requests take: one per batch slot, so a batch holds distinct prompts. */
export function scenarioPromptIndex(user: number, prompts: number): number {
  return user % prompts;
}

/** The requests of prefill-only wave `wave`: users 0 … B − 1, each its `wave`-th request. */
export function waveSlots(
  wave: number,
  batchSize: number,
): { mode: "closed"; user: number; k: number }[] {
  return Array.from({ length: batchSize }, (_, user) => ({ mode: "closed", user, k: wave }));
}
