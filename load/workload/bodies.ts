/**
 * OpenAI-compatible request bodies, as vLLM accepts them. `ignore_eos` is a
 * vLLM extension that makes every request generate exactly `max_tokens`, so
 * output length is a controlled factor rather than the model's choice.
 */
import { type Prompt, promptAsMessages, promptAsText } from "./prompts.ts";

export type ApiKind = "chat" | "completions";

export interface SamplingParams {
  model: string;
  maxTokens: number;
  stream: boolean;
  ignoreEos: boolean;
  temperature: number;
}

export const API_PATH: Record<ApiKind, string> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
};

/**
 * The JSON body for one request. `seed` is per request (run seed + request
 * number) so sampled outputs differ between requests yet repeat across runs.
 */
export function buildRequestBody(
  api: ApiKind,
  prompt: Prompt,
  params: SamplingParams,
  seed: number,
): Record<string, unknown> {
  const body: Record<string, unknown> = { model: params.model };
  if (api === "chat") body.messages = promptAsMessages(prompt);
  else body.prompt = promptAsText(prompt);
  // A dataset's reply length (or a drawn output length) governs when the set has one.
  body.max_tokens = prompt.outputTokens ?? params.maxTokens;
  body.temperature = params.temperature;
  body.seed = seed >>> 0;
  body.ignore_eos = params.ignoreEos;
  body.stream = params.stream;
  // Without include_usage a stream carries no token counts: ask for the final usage chunk.
  if (params.stream) body.stream_options = { include_usage: true };
  return body;
}

/** Request headers; the API key goes only here, never into records or logs. */
export function buildRequestHeaders(apiKey?: string): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream, application/json",
  };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return headers;
}
