/**
 * The OpenAI-compatible request handling that does not touch sockets:
 * validate a body, render and tokenize the prompt, settle the output length,
 * and build the response and stream chunks in vLLM's shapes.
 */
import type { z } from "zod";
import { drawTokenCount, hashString, mixSeed, uniform } from "../random.ts";
import { detokenize, tokenize } from "../tokenizer.ts";
import { renderChat } from "./chat-template.ts";
import { HttpError, VALIDATION_ERROR_TYPE } from "./errors.ts";
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
    throw new HttpError(400, message, param, VALIDATION_ERROR_TYPE);
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
  if (text === undefined) {
    // vllm/v1/engine/input_processor.py: a ValueError, so a 400 with no param.
    throw new HttpError(400, `Token id ${Math.max(...ids)} is out of vocabulary`);
  }
  return { ids: [...ids], text };
}

export function prepareRequest(kind: ApiKind, body: unknown, ctx: ServingContext): PreparedRequest {
  const request =
    kind === "chat" ? parseBody(ChatRequestSchema, body) : parseBody(CompletionRequestSchema, body);
  if (request.stream_options && !request.stream) {
    // chat_completion/protocol.py and completion/protocol.py `check_stream_options`.
    throw new HttpError(
      400,
      "Stream options can only be defined when `stream=True`.",
      null,
      "Bad Request",
    );
  }
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
  // vllm/entrypoints/utils.py `should_include_usage`: StreamOptions defaults include_usage
  // to true, and per-chunk usage needs both it and continuous_usage_stats.
  const streamOptions = request.stream_options;
  const includeUsage = streamOptions ? (streamOptions.include_usage ?? true) : false;
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
    includeUsage,
    continuousUsage: includeUsage && (streamOptions?.continuous_usage_stats ?? false),
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

export interface ChunkOptions {
  /** The chat role-only first chunk. */
  role?: boolean;
  /** Continuous usage stats (stream_options.continuous_usage_stats). */
  usage?: Usage;
  /** The stop string that ended the request (final chunk); null otherwise. */
  stopReason?: string | null;
}

/**
 * One streamed chunk, key for key as vLLM v0.16.0 serialises it: chat chunks
 * with pydantic's `exclude_unset` (vllm/entrypoints/openai/chat_completion/serving.py:
 * the role chunk carries `prompt_token_ids: null`, token chunks `token_ids: null`,
 * the final one `stop_reason`), completion chunks with every field
 * (completion/serving.py `exclude_unset=False`: `stop_reason`, `prompt_token_ids`,
 * `token_ids` and `"usage": null`).
 */
export function streamChunk(
  kind: ApiKind,
  base: ChunkBase,
  text: string,
  finishReason: string | null,
  options: ChunkOptions = {},
): Record<string, unknown> {
  const head = {
    id: base.id,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: base.created,
    model: base.model,
  };
  if (kind === "completion") {
    const choice = {
      index: 0,
      text,
      logprobs: null,
      finish_reason: finishReason,
      stop_reason: options.stopReason ?? null,
      prompt_token_ids: null,
      token_ids: null,
    };
    const usage = options.usage ? { ...options.usage, prompt_tokens_details: null } : null;
    return { ...head, choices: [choice], usage };
  }
  if (options.role) {
    const choice = {
      index: 0,
      delta: { role: "assistant", content: "" },
      logprobs: null,
      finish_reason: null,
    };
    return {
      ...head,
      choices: [choice],
      ...(options.usage ? { usage: options.usage } : {}),
      prompt_token_ids: null,
    };
  }
  const choice =
    finishReason === null
      ? { index: 0, delta: { content: text }, logprobs: null, finish_reason: null, token_ids: null }
      : {
          index: 0,
          delta: { content: text },
          logprobs: null,
          finish_reason: finishReason,
          stop_reason: options.stopReason ?? null,
          token_ids: null,
        };
  return { ...head, choices: [choice], ...(options.usage ? { usage: options.usage } : {}) };
}

/** The usage-only chunk before `[DONE]` (both APIs dump it with `exclude_none`). */
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
  stopReason: string | null = null,
): Record<string, unknown> {
  const choice =
    kind === "chat"
      ? {
          index: 0,
          message: { role: "assistant", content: text, tool_calls: [] },
          logprobs: null,
          finish_reason: finishReason,
          stop_reason: stopReason,
        }
      : { index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: stopReason };
  return {
    id: base.id,
    object: kind === "chat" ? "chat.completion" : "text_completion",
    created: base.created,
    model: base.model,
    choices: [choice],
    usage,
  };
}
