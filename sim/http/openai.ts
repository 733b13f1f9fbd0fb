/**
 * The OpenAI-compatible request handling that does not touch sockets:
 * validate a body, render and tokenize the prompt, settle the output length,
 * and build the response and stream chunks in vLLM's shapes.
 */
import type { z } from "zod";
import { drawTokenCount, hashString, mixSeed, uniform } from "../random.ts";
import { detokenize, tokenize } from "../tokenizer.ts";
import { renderChat } from "./chat-template.ts";
import { HttpError } from "./errors.ts";
import {
  type ChatRequest,
  ChatRequestSchema,
  type CompletionRequest,
  CompletionRequestSchema,
  describeIssue,
} from "./request-schema.ts";

export type ApiKind = "chat" | "completion";

export interface ServingContext {
  servedNames: readonly string[];
  maxModelLen: number;
  meanOutputTokens: number;
  seed: number;
  /** Increments per request: the default source of randomness for unseeded requests. */
  nextRequestNumber(): number;
}

export interface PreparedRequest {
  kind: ApiKind;
  model: string;
  promptTokenIds: number[];
  /** The max_tokens / max_completion_tokens the client sent, for the metrics histogram. */
  maxTokensParam: number | undefined;
  outputTokens: number;
  finishReason: "stop" | "length";
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  /** Generates the text of each output token. */
  random: () => number;
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeIssue(parsed.error);
    throw new HttpError(400, message, param);
  }
  return parsed.data;
}

function checkModel(ctx: ServingContext, model: string | null | undefined): string {
  const name = model ?? ctx.servedNames[0] ?? "";
  if (!ctx.servedNames.includes(name)) {
    throw new HttpError(404, `The model \`${name}\` does not exist.`, "model");
  }
  return name;
}

/** Options vLLM supports but the simulator does not model: refused rather than ignored. */
function refuseUnsupported(body: ChatRequest | CompletionRequest, kind: ApiKind): void {
  const refuse = (param: string, what: string) => {
    throw new HttpError(400, `${what} is not supported by the vscale simulator`, param);
  };
  if ((body.n ?? 1) > 1) refuse("n", "n > 1");
  if ((body.best_of ?? 1) > 1) refuse("best_of", "best_of > 1");
  if (body.use_beam_search) refuse("use_beam_search", "beam search");
  if (kind === "chat") {
    const chat = body as ChatRequest;
    if (chat.logprobs) refuse("logprobs", "logprobs");
  } else {
    const completion = body as CompletionRequest;
    if (completion.logprobs !== undefined && completion.logprobs !== null)
      refuse("logprobs", "logprobs");
    if (completion.echo) refuse("echo", "echo");
    if (completion.suffix) refuse("suffix", "suffix");
  }
}

function completionPromptIds(prompt: CompletionRequest["prompt"]): { ids: number[]; text: string } {
  if (typeof prompt === "string") return { ids: tokenize(prompt), text: prompt };
  if (prompt.length > 1) {
    throw new HttpError(
      400,
      "batched prompts (a list of several prompts) are not supported by the vscale simulator",
      "prompt",
    );
  }
  const first = prompt[0];
  if (typeof first === "string") return { ids: tokenize(first), text: first };
  const ids = (Array.isArray(first) ? first : prompt) as number[];
  const text = detokenize(ids);
  if (text === undefined)
    throw new HttpError(400, "prompt contains token ids outside the vocabulary", "prompt");
  return { ids: [...ids], text };
}

export function prepareRequest(kind: ApiKind, body: unknown, ctx: ServingContext): PreparedRequest {
  const request =
    kind === "chat" ? parseBody(ChatRequestSchema, body) : parseBody(CompletionRequestSchema, body);
  const model = checkModel(ctx, request.model);
  refuseUnsupported(request, kind);

  let promptIds: number[];
  let promptText: string;
  if (kind === "chat") {
    promptText = renderChat((request as ChatRequest).messages);
    promptIds = tokenize(promptText);
  } else {
    ({ ids: promptIds, text: promptText } = completionPromptIds(
      (request as CompletionRequest).prompt,
    ));
  }

  const maxTokensParam =
    (kind === "chat" ? (request as ChatRequest).max_completion_tokens : undefined) ??
    request.max_tokens ??
    undefined;
  const promptLen = promptIds.length;
  const where = kind === "chat" ? "messages" : "prompt";
  if (promptLen === 0) throw new HttpError(400, "The prompt is empty.", where);
  if (promptLen + (maxTokensParam ?? 0) > ctx.maxModelLen || promptLen >= ctx.maxModelLen) {
    throw new HttpError(
      400,
      `This model's maximum context length is ${ctx.maxModelLen} tokens. However, you requested ` +
        `${promptLen + (maxTokensParam ?? 0)} tokens (${promptLen} in the ${where}, ${maxTokensParam ?? 0} in the completion). ` +
        `Please reduce the length of the ${where} or completion.`,
      where,
    );
  }
  const maxTokens = maxTokensParam ?? ctx.maxModelLen - promptLen;
  const minTokens = request.min_tokens ?? 0;
  if (minTokens > maxTokens) {
    throw new HttpError(
      400,
      `min_tokens (${minTokens}) must be less than or equal to max_tokens (${maxTokens})`,
      "min_tokens",
    );
  }

  // Greedy decoding (temperature 0) and an explicit seed are reproducible per prompt.
  const promptHash = hashString(promptText);
  const seed =
    request.seed !== undefined && request.seed !== null
      ? mixSeed(request.seed, promptHash)
      : request.temperature === 0
        ? mixSeed(ctx.seed, promptHash)
        : mixSeed(ctx.seed, ctx.nextRequestNumber());
  const random = uniform(seed);
  let outputTokens: number;
  let finishReason: "stop" | "length";
  if (request.ignore_eos) {
    outputTokens = maxTokens;
    finishReason = "length";
  } else {
    const drawn = Math.max(drawTokenCount(random, ctx.meanOutputTokens), minTokens);
    outputTokens = Math.min(drawn, maxTokens);
    finishReason = drawn >= maxTokens ? "length" : "stop";
  }
  const stop =
    request.stop === undefined || request.stop === null
      ? []
      : [request.stop].flat().filter((s) => s !== "");
  return {
    kind,
    model,
    promptTokenIds: promptIds,
    maxTokensParam,
    outputTokens,
    finishReason,
    stop,
    stream: request.stream ?? false,
    includeUsage: request.stream_options?.include_usage ?? false,
    continuousUsage: request.stream_options?.continuous_usage_stats ?? false,
    random,
  };
}

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
  };
}

export interface ChunkBase {
  id: string;
  created: number;
  model: string;
}

/** One streamed chunk. `text` undefined + role: the chat role-only first chunk. */
export function streamChunk(
  kind: ApiKind,
  base: ChunkBase,
  text: string,
  finishReason: string | null,
  options: { role?: boolean; usage?: Usage } = {},
): Record<string, unknown> {
  const choice =
    kind === "chat"
      ? {
          index: 0,
          delta: options.role ? { role: "assistant", content: "" } : { content: text },
          logprobs: null,
          finish_reason: finishReason,
        }
      : { index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null };
  const chunk: Record<string, unknown> = {
    id: base.id,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: base.created,
    model: base.model,
    choices: [choice],
  };
  if (options.usage) chunk.usage = options.usage;
  return chunk;
}

/** The usage-only chunk sent before `[DONE]` when `stream_options.include_usage` is set. */
export function usageChunk(kind: ApiKind, base: ChunkBase, usage: Usage): Record<string, unknown> {
  return {
    id: base.id,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: base.created,
    model: base.model,
    choices: [],
    usage,
  };
}

export function fullResponse(
  kind: ApiKind,
  base: ChunkBase,
  text: string,
  finishReason: string,
  usage: Usage,
): Record<string, unknown> {
  const choice =
    kind === "chat"
      ? {
          index: 0,
          message: { role: "assistant", content: text, tool_calls: [] },
          logprobs: null,
          finish_reason: finishReason,
          stop_reason: null,
        }
      : { index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null };
  return {
    id: base.id,
    object: kind === "chat" ? "chat.completion" : "text_completion",
    created: base.created,
    model: base.model,
    choices: [choice],
    usage,
  };
}
