/**
 * Whether a server's `usage` can be true of the answer that was seen. vLLM
 * counts every generated token in `usage.completion_tokens`, never more than
 * the request's `max_tokens`, and each streamed chunk with text carries at
 * least one token (its output processor may merge several into one chunk,
 * never split one over two). A claim outside those bounds is a broken
 * server or proxy: the record fails as `bad_payload` instead of having its
 * tokens summed into throughput (a claim of 10,000 after 8 chunks turned
 * 2,592 tok/s into 240,000).
 */
import type { Usage } from "./openai-stream.ts";

export interface AnswerSeen {
  usage: Usage | null;
  /** Chunks that carried text (null for a buffered answer). */
  textChunks: number | null;
  /** The request's `max_tokens`; null when the engine does not know it. */
  maxTokens: number | null;
}

const whole = (x: number) => Number.isInteger(x) && x >= 0;

/** Why the usage cannot be true, or null when it can (or there is none). */
export function usageProblem({ usage, textChunks, maxTokens }: AnswerSeen): string | null {
  if (textChunks !== null && maxTokens !== null && textChunks > maxTokens)
    return `${textChunks} chunks with text arrived for max_tokens ${maxTokens}`;
  if (usage === null) return null;
  const { promptTokens, completionTokens } = usage;
  if (promptTokens !== null && !whole(promptTokens))
    return `usage.prompt_tokens ${promptTokens} is not a whole number ≥ 0`;
  if (completionTokens === null) return null;
  if (!whole(completionTokens))
    return `usage.completion_tokens ${completionTokens} is not a whole number ≥ 0`;
  if (maxTokens !== null && completionTokens > maxTokens)
    return `usage.completion_tokens ${completionTokens} exceeds the request's max_tokens ${maxTokens}`;
  if (textChunks !== null && completionTokens < textChunks)
    return `usage.completion_tokens ${completionTokens} is fewer than the ${textChunks} chunks with text that arrived`;
  return null;
}
