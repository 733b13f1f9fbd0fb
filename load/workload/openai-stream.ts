/**
 * Reading OpenAI-compatible responses (vLLM's server): the SSE chunks of a
 * streamed completion and the JSON of a buffered one. Pure, so both engines
 * and the k6 scenarios classify payloads identically.
 */
import type { ApiKind } from "./bodies.ts";

export interface Usage {
  promptTokens: number | null;
  completionTokens: number | null;
}

/** What one `data:` payload of a stream meant. */
export type StreamPayload =
  | { kind: "done" }
  | { kind: "chunk"; text: string; finishReason: string | null; usage: Usage | null }
  | { kind: "error"; status: number | null; message: string }
  | { kind: "bad"; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readUsage(value: unknown): Usage | null {
  if (!isRecord(value)) return null;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null);
  return { promptTokens: num(value.prompt_tokens), completionTokens: num(value.completion_tokens) };
}

/** An error object as vLLM sends it (`{"error": {...}}` or `{"object": "error", ...}`), or null. */
export function readErrorObject(
  value: Record<string, unknown>,
): { status: number | null; message: string } | null {
  let err: Record<string, unknown> | null = null;
  if (isRecord(value.error)) err = value.error;
  else if (typeof value.error === "string") err = { message: value.error };
  else if (value.object === "error") err = value;
  if (err === null) return null;
  const code = typeof err.code === "number" ? err.code : null;
  const message = typeof err.message === "string" ? err.message : "error object in response";
  return { status: code, message: message.slice(0, 200) };
}

/**
 * Generated text in a choice: chat `delta.content` (and `reasoning_content`,
 * which reasoning models stream first) or completions `text`. A role-only
 * delta has none, so it never counts as the first token.
 */
function choiceText(api: ApiKind, choice: Record<string, unknown>): string {
  if (api === "completions") return typeof choice.text === "string" ? choice.text : "";
  const delta = isRecord(choice.delta)
    ? choice.delta
    : isRecord(choice.message)
      ? choice.message
      : null;
  if (delta === null) return "";
  const content = typeof delta.content === "string" ? delta.content : "";
  const reasoning = typeof delta.reasoning_content === "string" ? delta.reasoning_content : "";
  return reasoning + content;
}

const TEXT_KEYS: Record<ApiKind, readonly string[]> = {
  chat: ['"content":"', '"reasoning_content":"'],
  completions: ['"text":"'],
};
const QUOTE = 34;

/**
 * The cheap path for the one event a stream is made of: does this payload
 * carry generated text and nothing else that matters (no usage, finish
 * reason or error)? Timing needs only when such a chunk arrived, so it is
 * found by a substring test on vLLM's compact JSON instead of JSON.parse.
 * Escaped quotes inside strings (`\"`) can never form a key pattern. Anything
 * else (other spacing, usage, errors, a cut-off object) returns false and
 * takes parseStreamPayload: slower, never different.
 */
export function isPlainTextChunk(api: ApiKind, data: string): boolean {
  const n = data.length;
  if (n < 2 || data.charCodeAt(0) !== 123 || data.charCodeAt(n - 1) !== 125) return false;
  if (data.includes('"usage":{') || data.includes('"finish_reason":"') || data.includes('"error"'))
    return false;
  for (const key of TEXT_KEYS[api]) {
    const at = data.indexOf(key);
    if (at !== -1 && data.charCodeAt(at + key.length) !== QUOTE) return true;
  }
  return false;
}

export function parseStreamPayload(api: ApiKind, data: string): StreamPayload {
  if (data.trim() === "[DONE]") return { kind: "done" };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { kind: "bad", message: "stream chunk is not JSON" };
  }
  if (!isRecord(value)) return { kind: "bad", message: "stream chunk is not a JSON object" };
  const error = readErrorObject(value);
  if (error) return { kind: "error", ...error };
  const choices = Array.isArray(value.choices) ? value.choices : [];
  const choice = choices[0];
  let text = "";
  let finishReason: string | null = null;
  if (isRecord(choice)) {
    text = choiceText(api, choice);
    if (typeof choice.finish_reason === "string") finishReason = choice.finish_reason;
  } else if (value.usage === undefined || value.usage === null) {
    return { kind: "bad", message: "stream chunk has neither choices nor usage" };
  }
  return { kind: "chunk", text, finishReason, usage: readUsage(value.usage) };
}

/** A whole (non-streamed) response body. */
export type BufferedResponse =
  | { kind: "ok"; text: string; finishReason: string | null; usage: Usage | null }
  | { kind: "error"; status: number | null; message: string }
  | { kind: "bad"; message: string };

export function parseBufferedResponse(api: ApiKind, body: string): BufferedResponse {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: "bad", message: "response body is not JSON" };
  }
  if (!isRecord(value)) return { kind: "bad", message: "response body is not a JSON object" };
  const error = readErrorObject(value);
  if (error) return { kind: "error", ...error };
  const choice = Array.isArray(value.choices) ? value.choices[0] : undefined;
  if (!isRecord(choice)) return { kind: "bad", message: "response has no choices" };
  return {
    kind: "ok",
    text: choiceText(api, choice),
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    usage: readUsage(value.usage),
  };
}
