/**
 * What both k6 scenarios share: parameters, the prepared prompts, per-VU
 * seeded prompt choice, the warm-up flag, and emitting one record per request
 * as a console line (k6 writes them raw to `--console-output`).
 */
import exec from "k6/execution";
import { Rate } from "k6/metrics";
import type { RequestRecord } from "../../formats/request-record.ts";
import { createRng, type Rng } from "../../stats/rng.ts";
import { RNG_STREAM } from "../workload/arrivals.ts";
import { API_PATH, buildRequestBody, buildRequestHeaders } from "../workload/bodies.ts";
import type { PreparedPromptSet, Prompt } from "../workload/prompts.ts";
import { API_KEY_ENV, type K6Params, paramsFromEnv, START_MARKER } from "./options.ts";

export const params: K6Params = paramsFromEnv(__ENV);
const promptSet = JSON.parse(open(params.promptsFile)) as PreparedPromptSet;
const apiKey = __ENV[API_KEY_ENV];

export const requestFailed = new Rate("vscale_request_failed");

export const requestUrl = `${params.url.replace(/\/+$/, "").replace(/\/v1$/, "")}${API_PATH[params.api]}`;

let vuRng: Rng | null = null;

export interface PlannedRequest {
  requestId: string;
  prompt: Prompt;
  body: string;
  headers: Record<string, string>;
  warmup: boolean;
}

/** The next request of this VU: each VU draws prompts from its own seeded stream. */
export function planRequest(): PlannedRequest {
  const vu = exec.vu.idInTest;
  if (vuRng === null) vuRng = createRng(params.seed, RNG_STREAM.userBase + vu);
  const prompt = promptSet.prompts[vuRng.int(promptSet.prompts.length)] as Prompt;
  const iteration = exec.vu.iterationInScenario;
  const sampling = {
    model: params.model,
    maxTokens: params.maxTokens,
    stream: params.stream,
    ignoreEos: params.ignoreEos,
    temperature: params.temperature,
  };
  const requestId = `k6-${vu}-${iteration}`;
  return {
    requestId,
    prompt,
    body: JSON.stringify(
      buildRequestBody(params.api, prompt, sampling, params.seed + vu * 1_000_003 + iteration),
    ),
    headers: { ...buildRequestHeaders(apiKey), "x-request-id": requestId },
    warmup: Date.now() - exec.scenario.startTime < params.warmupMs,
  };
}

export function emitRecord(record: RequestRecord): void {
  requestFailed.add(!record.ok);
  console.log(JSON.stringify(record));
}

/** Logged once before the scenario starts: the runner's time origin. */
export function logStart(): void {
  console.log(JSON.stringify({ [START_MARKER]: Date.now() * 1000 }));
}

/** k6 writes the end-of-test summary where the runner asked (`k6-summary.json`). */
export function summaryFiles(data: object): Record<string, string> {
  return { [params.summaryFile]: JSON.stringify(data, null, 2) };
}
