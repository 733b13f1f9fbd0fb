/**
 * Parameters the Node runner passes to the k6 scenarios (`VSCALE_PARAMS`, one
 * JSON object in the environment; the API key travels apart in
 * `VSCALE_API_KEY`), and the k6 `options` derived from them. Pure: no k6 or
 * Node imports, so the runner and the tests use it too.
 */
import type { LoadSchedule } from "../workload/arrivals.ts";
import { openArrivalTimesMs } from "../workload/arrivals.ts";
import type { WorkloadParams } from "../workload/params.ts";

export interface K6Params extends WorkloadParams {
  /** Absolute path of the prepared prompt set (JSON), read with k6's `open()`. */
  promptsFile: string;
  promptSetName: string;
  summaryFile: string;
  /** Fail the k6 run's thresholds above this share of failed requests. */
  maxErrorRate: number;
}

export const PARAMS_ENV = "VSCALE_PARAMS";
export const API_KEY_ENV = "VSCALE_API_KEY";
/** The line a scenario's `setup()` logs so the runner knows when load began. */
export const START_MARKER = "vscale_k6_start_us";

export function paramsFromEnv(env: Record<string, string | undefined>): K6Params {
  const raw = env[PARAMS_ENV];
  if (raw === undefined || raw === "") {
    throw new Error(
      `${PARAMS_ENV} is not set: run the scenario through \`vscale\` (load/k6/runner.ts)`,
    );
  }
  return JSON.parse(raw) as K6Params;
}

/** Milliseconds as a k6 duration string. */
export function k6Duration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}

interface Stage {
  duration: string;
  target: number;
}

/**
 * k6 has no Poisson or gamma executor: the seeded schedule is binned per
 * second and replayed with `ramping-arrival-rate`, holding each second's count
 * (a 0 s stage jumps, a 1 s stage holds). Burstiness at scales above one
 * second is kept; within a second k6 spaces arrivals evenly.
 */
export function binnedArrivalStages(
  schedule: LoadSchedule & { mode: "open" },
  seed: number,
  totalMs: number,
): Stage[] {
  const times = openArrivalTimesMs(schedule, seed, totalMs);
  const seconds = Math.ceil(totalMs / 1000);
  const counts = new Array<number>(seconds).fill(0);
  for (const t of times) {
    const i = Math.floor(t / 1000);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  const stages: Stage[] = [];
  for (const [i, count] of counts.entries()) {
    const holdMs = Math.min(1000, totalMs - i * 1000);
    stages.push({ duration: "0s", target: count }, { duration: k6Duration(holdMs), target: count });
  }
  return stages;
}

/** Rate as an integer count per time unit (k6 wants whole iterations per unit). */
function integerRate(perSecond: number): { rate: number; timeUnit: string } {
  if (Number.isInteger(perSecond)) return { rate: perSecond, timeUnit: "1s" };
  return { rate: Math.round(perSecond * 1000), timeUnit: "1000s" };
}

export function buildK6Options(p: K6Params): Record<string, unknown> {
  const totalMs = p.warmupMs + p.durationMs;
  // Drain: let iterations finish (bounded by the request timeout); otherwise stop hard.
  const grace = p.drain ? k6Duration(p.timeoutMs) : "0s";
  const s = p.schedule;
  let scenario: Record<string, unknown>;
  if (s.mode === "closed") {
    const rampMs =
      s.spawnRate === undefined ? 0 : Math.min(totalMs, (s.users / s.spawnRate) * 1000);
    scenario = {
      executor: "ramping-vus",
      startVUs: rampMs === 0 ? s.users : 0,
      stages: [
        ...(rampMs > 0 ? [{ duration: k6Duration(rampMs), target: s.users }] : []),
        { duration: k6Duration(totalMs - rampMs), target: s.users },
      ],
      gracefulRampDown: grace,
      gracefulStop: grace,
    };
  } else {
    const maxVUs =
      s.maxConcurrency ?? Math.max(1, Math.min(5000, Math.ceil(s.rate * (p.timeoutMs / 1000))));
    const preAllocatedVUs = Math.min(maxVUs, Math.max(1, Math.ceil(s.rate * 2)));
    scenario =
      s.arrival === "constant"
        ? {
            executor: "constant-arrival-rate",
            ...integerRate(s.rate),
            duration: k6Duration(totalMs),
            preAllocatedVUs,
            maxVUs,
            gracefulStop: grace,
          }
        : {
            executor: "ramping-arrival-rate",
            startRate: 0,
            timeUnit: "1s",
            stages: binnedArrivalStages(s, p.seed, totalMs),
            preAllocatedVUs,
            maxVUs,
            gracefulStop: grace,
          };
  }
  return {
    scenarios: { load: scenario },
    thresholds: {
      // Failures recorded by the scenario itself (HTTP, stream and transport errors).
      vscale_request_failed: [{ threshold: `rate<${p.maxErrorRate}`, abortOnFail: false }],
    },
    summaryTrendStats: ["avg", "min", "med", "p(90)", "p(99)", "max"],
    setupTimeout: "60s",
  };
}
