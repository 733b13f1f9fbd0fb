/**
 * Parameters the Node runner passes to the k6 scenarios (`VSCALE_PARAMS`, one
 * JSON object in the environment; the API key travels apart in
 * `VSCALE_API_KEY`), and the k6 `options` derived from them. Pure: no k6 or
 * Node imports, so the runner and the tests use it too.
 */

import { parseDurationMs } from "../../config/duration.ts";
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

/**
 * The parameters: `VSCALE_PARAMS` when vscale runs k6, else k6's own
 * `-e NAME=value` variables, so `k6 run load/k6/chat.ts -e BASE_URL=… -e
 * MODEL=… -e VUS=… -e DURATION=…` works on its own (`PROMPTS` names a
 * prompt file: `.txt` one a line, `.jsonl`, or vscale's prepared `.json`).
 */
export function paramsFromEnv(env: Record<string, string | undefined>): K6Params {
  const raw = env[PARAMS_ENV];
  if (raw !== undefined && raw !== "") return JSON.parse(raw) as K6Params;
  return standaloneParams(env);
}

function envNumber(env: Record<string, string | undefined>, name: string, fallback: number) {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`-e ${name}: expected a number ≥ 0, got "${text}"`);
  return value;
}

function envDurationMs(env: Record<string, string | undefined>, name: string, fallback: string) {
  const text = env[name] ?? fallback;
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw new Error(`-e ${name}: expected a duration such as 30s or 2m, got "${text}"`);
  return ms;
}

export function standaloneParams(env: Record<string, string | undefined>): K6Params {
  const url = env.BASE_URL;
  const model = env.MODEL;
  if (!url || !model) {
    throw new Error(
      "set -e BASE_URL=http://host:8000 -e MODEL=<served model> (and -e VUS=…, -e DURATION=…), or run through `vscale`",
    );
  }
  const api = env.API ?? "chat";
  if (api !== "chat" && api !== "completions")
    throw new Error(`-e API: expected chat or completions, got "${api}"`);
  return {
    url,
    model,
    api,
    experimentId: env.EXPERIMENT_ID ?? "k6-standalone",
    promptsFile: env.PROMPTS ?? "",
    promptSetName: env.PROMPTS ? "file" : "builtin",
    schedule: {
      mode: "closed",
      users: Math.max(1, Math.round(envNumber(env, "VUS", 1))),
      thinkTimeMs: 0,
    },
    warmupMs: envDurationMs(env, "WARMUP", "0s"),
    durationMs: envDurationMs(env, "DURATION", "30s"),
    maxTokens: Math.max(1, Math.round(envNumber(env, "MAX_TOKENS", 128))),
    stream: env.STREAM !== "false",
    ignoreEos: env.IGNORE_EOS !== "false",
    temperature: envNumber(env, "TEMPERATURE", 0),
    timeoutMs: envDurationMs(env, "TIMEOUT", "2m"),
    seed: Math.round(envNumber(env, "SEED", 0)),
    drain: false,
    // k6's own end-of-test summary on stdout (scenario.ts summaryFiles()).
    summaryFile: "",
    maxErrorRate: envNumber(env, "MAX_ERROR_RATE", 0.05),
  };
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
  if (s.mode === "closed" && s.scenario !== undefined) {
    // k6 has no barrier across VUs: prefill-only is one VU whose every iteration is one wave,
    // B requests through `http.batch` (chat.ts); decode-only is B VUs, each one stream at a time.
    scenario = {
      executor: "constant-vus",
      vus: s.scenario === "prefill-only" ? 1 : s.users,
      duration: k6Duration(totalMs),
      gracefulStop: grace,
    };
  } else if (s.mode === "closed") {
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
  // `http.batch` sends at most `batchPerHost` (default 6) at a time: a wave must go out whole.
  const waves = s.mode === "closed" && s.scenario === "prefill-only";
  return {
    scenarios: { load: scenario },
    ...(waves ? { batch: s.users, batchPerHost: s.users } : {}),
    thresholds: {
      // Failures recorded by the scenario itself (HTTP, stream and transport errors).
      vscale_request_failed: [{ threshold: `rate<${p.maxErrorRate}`, abortOnFail: false }],
    },
    summaryTrendStats: ["avg", "min", "med", "p(90)", "p(99)", "max"],
    setupTimeout: "60s",
  };
}
