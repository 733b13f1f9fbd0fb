/**
 * What both k6 scenarios share: parameters, the prepared prompts, the request
 * plan (prompt and seed from the workload core, as the Node engine), the
 * warm-up flag, and emitting one record per request as a console line (k6
 * writes them raw to `--console-output`).
 */
import exec from "k6/execution";
import { Rate } from "k6/metrics";
import type { RequestRecord } from "../../formats/request-record.ts";
import { API_PATH, buildRequestHeaders } from "../workload/bodies.ts";
import { type PreparedPromptSet, type Prompt, parsePromptText } from "../workload/prompts.ts";
import { planRequest as planSlot, type RequestSlot, samplingOf } from "../workload/request-plan.ts";
import { waveSlots } from "../workload/scenarios.ts";
import { API_KEY_ENV, type K6Params, paramsFromEnv, START_MARKER } from "./options.ts";
import { k6RequestSlot } from "./request-slot.ts";
import { textSummary } from "./text-summary.ts";

const BUILTIN_PROMPT: Prompt = {
  id: "builtin",
  text: "Write a short story about a lighthouse keeper.",
  messages: null,
  tokens: null,
};

export const params: K6Params = paramsFromEnv(__ENV);
const promptSet = loadPromptSet(params.promptsFile);
const apiKey = __ENV[API_KEY_ENV];

export const requestFailed = new Rate("vscale_request_failed");

export const requestUrl = `${params.url.replace(/\/+$/, "").replace(/\/v1$/, "")}${API_PATH[params.api]}`;

const sampling = samplingOf(params);

export interface PlannedRequest {
  requestId: string;
  prompt: Prompt;
  body: string;
  headers: Record<string, string>;
  warmup: boolean;
  /** Epoch ms when the scenario's warm-up + window end: a request failing then was cut by it. */
  windowEndMs: number;
}

/** The next request of this VU, planned by the workload core from k6's execution numbers. */
export function planRequest(): PlannedRequest {
  const slot = k6RequestSlot(params.schedule, {
    vuIdInTest: exec.vu.idInTest,
    vuIterationInScenario: exec.vu.iterationInScenario,
    scenarioIterationInTest: exec.scenario.iterationInTest,
  });
  return planFor(slot);
}

/** prefill-only: this iteration's wave (the one VU's iteration number) and its B requests. */
export function planWave(batchSize: number): { wave: number; requests: PlannedRequest[] } {
  const wave = exec.vu.iterationInScenario;
  return { wave, requests: waveSlots(wave, batchSize).map(planFor) };
}

function planFor(slot: RequestSlot): PlannedRequest {
  const plan = planSlot(params, promptSet.prompts, slot, sampling);
  return {
    requestId: plan.requestId,
    prompt: plan.prompt,
    body: plan.body,
    headers: { ...buildRequestHeaders(apiKey), "x-request-id": plan.requestId },
    warmup: Date.now() - exec.scenario.startTime < params.warmupMs,
    windowEndMs: exec.scenario.startTime + params.warmupMs + params.durationMs,
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

/** k6 writes the end-of-test summary where the runner asked (`k6-summary.json`), or to stdout standalone. */
export function summaryFiles(data: object): Record<string, string> {
  if (params.summaryFile === "") return { stdout: textSummary(data) };
  return { [params.summaryFile]: JSON.stringify(data, null, 2) };
}

/** vscale's prepared set (`.json`), a prompt file (`.txt`, `.jsonl`), or one built-in prompt. */
function loadPromptSet(file: string): PreparedPromptSet {
  if (file === "")
    return { name: "builtin", source: "file", prompts: [BUILTIN_PROMPT], tokensEstimated: false };
  const text = open(file);
  if (file.endsWith(".json")) return JSON.parse(text) as PreparedPromptSet;
  const parsed = parsePromptText(text, file.endsWith(".jsonl") ? "jsonl" : "lines");
  if (!parsed.ok) throw new Error(`${file}:${parsed.line}: ${parsed.field}: ${parsed.message}`);
  if (parsed.prompts.length === 0) throw new Error(`${file}: no prompts`);
  return { name: "file", source: "file", prompts: parsed.prompts, tokensEstimated: false };
}
