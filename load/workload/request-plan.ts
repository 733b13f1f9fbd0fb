/**
 * Which prompt and which sampling seed each request of a schedule gets, and
 * its body: written once, here, for both engines (the Node engine numbers its
 * users and requests, k6 hands its VU and iteration numbers to
 * `load/k6/request-slot.ts`, which maps them onto the same slots). Each
 * request's prompt is drawn from a stream derived from its own slot, not from
 * a shared sequence, so k6's pooled VUs (open loop) and the Node engine's
 * tasks pick the same prompt whatever order requests go out or finish in.
 */
import { mixSeed } from "../../stats/hash.ts";
import { createRng } from "../../stats/rng.ts";
import { RNG_STREAM } from "./arrivals.ts";
import { buildRequestBody, type SamplingParams } from "./bodies.ts";
import type { WorkloadParams } from "./params.ts";
import type { Prompt } from "./prompts.ts";
import { scenarioOf, scenarioPromptIndex, scenarioSampling } from "./scenarios.ts";
import { sessionTurn } from "./sessions.ts";

/** Closed loop: user `user` (0-based) sending its `k`-th request (0-based). Open loop: arrival `arrival` (0-based). */
export type RequestSlot =
  | { mode: "closed"; user: number; k: number }
  | { mode: "open"; arrival: number };

export interface PlannedRequest {
  /** `u<user>-<k>` or `r<arrival>`; also sent as `x-request-id`. */
  requestId: string;
  prompt: Prompt;
  promptIndex: number;
  /** The body's `seed`: run seed + request number, so outputs differ between requests yet repeat across runs. */
  seed: number;
  /** The JSON body, ready to send. */
  body: string;
  /** The body's `max_tokens`: what the server's usage may claim at most (usage-check.ts). */
  maxTokens: number;
}

/** Spacing of closed-loop users' seed ranges (a prime, so users never share a seed in practice). */
const USER_SEED_STRIDE = 1_000_003;

export function samplingOf(p: WorkloadParams): SamplingParams {
  return scenarioSampling(scenarioOf(p.schedule), {
    model: p.model,
    maxTokens: p.maxTokens,
    stream: p.stream,
    ignoreEos: p.ignoreEos,
    temperature: p.temperature,
  });
}

export function planRequest(
  params: WorkloadParams,
  prompts: readonly Prompt[],
  slot: RequestSlot,
  sampling: SamplingParams = samplingOf(params),
): PlannedRequest {
  const closed = slot.mode === "closed";
  const requestId = closed ? `u${slot.user}-${slot.k}` : `r${slot.arrival}`;
  const seed = closed
    ? params.seed + slot.user * USER_SEED_STRIDE + slot.k
    : params.seed + slot.arrival;
  const rng = closed
    ? createRng(mixSeed(params.seed, slot.user, slot.k), RNG_STREAM.closedPrompts)
    : createRng(mixSeed(params.seed, slot.arrival), RNG_STREAM.openPrompts);
  const turns = params.schedule.mode === "closed" ? (params.schedule.turns ?? 1) : 1;
  if (slot.mode === "closed" && turns > 1) {
    const t = sessionTurn(params.seed, prompts, slot.user, slot.k, turns, sampling.maxTokens);
    const sent: Prompt = {
      id: t.first.id,
      text: null,
      messages: t.messages,
      tokens: null,
      outputTokens: t.outputTokens,
    };
    const body = JSON.stringify(buildRequestBody(params.api, sent, sampling, seed));
    const maxTokens = sent.outputTokens ?? sampling.maxTokens;
    return { requestId, prompt: sent, promptIndex: t.firstIndex, seed, body, maxTokens };
  }
  // A scenario's batch holds distinct prompts (scenarios.ts); otherwise each request draws one.
  const promptIndex =
    slot.mode === "closed" && scenarioOf(params.schedule) !== null
      ? scenarioPromptIndex(slot.user, prompts.length)
      : rng.int(prompts.length);
  const prompt = prompts[promptIndex] as Prompt;
  const body = JSON.stringify(buildRequestBody(params.api, prompt, sampling, seed));
  const maxTokens = prompt.outputTokens ?? sampling.maxTokens;
  return { requestId, prompt, promptIndex, seed, body, maxTokens };
}
