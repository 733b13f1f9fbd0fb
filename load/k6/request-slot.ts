/**
 * k6's execution numbers → the workload core's request slot
 * (`load/workload/request-plan.ts`), so k6 picks the prompts and seeds the
 * Node engine picks. Pure (no k6 import): the tests call it with the numbers
 * k6 would give.
 */
import type { LoadSchedule } from "../workload/arrivals.ts";
import type { RequestSlot } from "../workload/request-plan.ts";

/** The fields of `k6/execution` this needs. */
export interface K6ExecNumbers {
  /** `exec.vu.idInTest`: 1-based. */
  vuIdInTest: number;
  /** `exec.vu.iterationInScenario`: 0-based, per VU. */
  vuIterationInScenario: number;
  /** `exec.scenario.iterationInTest`: 0-based, unique across VUs, in start order. */
  scenarioIterationInTest: number;
}

export function k6RequestSlot(schedule: LoadSchedule, n: K6ExecNumbers): RequestSlot {
  // Closed loop (ramping-vus): VU v is user v − 1 for its whole life. Open
  // loop (arrival-rate executors): VUs are pooled, so the iteration is the arrival.
  return schedule.mode === "closed"
    ? { mode: "closed", user: n.vuIdInTest - 1, k: n.vuIterationInScenario }
    : { mode: "open", arrival: n.scenarioIterationInTest };
}
