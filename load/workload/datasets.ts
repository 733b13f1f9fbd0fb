/**
 * Dataset formats beyond one prompt a line, pure (text already read):
 * ShareGPT JSON, as `vllm bench serve --dataset-name sharegpt` reads it
 * (vllm/benchmarks/datasets.py `ShareGPTDataset`): each entry's first human
 * turn is the prompt and the reply that follows it gives the output length.
 * The whole conversation is kept, so multi-turn sessions
 * (`load/workload/sessions.ts`) can replay it turn by turn.
 */
import type { ChatMessage, Prompt } from "./prompts.ts";

export type DatasetParseResult =
  | { ok: true; prompts: Prompt[] }
  | { ok: false; path: (string | number)[]; message: string };

/** ShareGPT's speaker names → chat roles (`human`/`user` and `gpt`/`chatgpt`/`assistant`). */
const ROLE_OF: Record<string, "user" | "assistant" | "system"> = {
  human: "user",
  user: "user",
  gpt: "assistant",
  chatgpt: "assistant",
  assistant: "assistant",
  bing: "assistant",
  bard: "assistant",
  system: "system",
};

/**
 * Output length of a reply when no tokenizer is at hand: characters / 4, the
 * usual English estimate. The runner replaces it with the server's own count
 * (POST /tokenize) when the server has one, as vLLM tokenizes the reply.
 */
export function estimateTokens(text: string, charsPerToken = 4): number {
  return Math.max(1, Math.round(text.length / charsPerToken));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Entries whose conversation has no human turn followed by a reply are
 * skipped, as vLLM skips conversations of fewer than two turns; a malformed
 * entry (not an object, a turn without `from`/`value` strings) is an error.
 */
export function parseShareGpt(value: unknown): DatasetParseResult {
  if (!Array.isArray(value)) {
    return { ok: false, path: [], message: "expected a JSON array of conversations" };
  }
  const prompts: Prompt[] = [];
  for (const [i, entry] of value.entries()) {
    if (!isRecord(entry) || !Array.isArray(entry.conversations)) {
      return {
        ok: false,
        path: [i, "conversations"],
        message: 'expected {"conversations": [{"from": …, "value": …}, …]}',
      };
    }
    const messages: ChatMessage[] = [];
    for (const [j, turn] of entry.conversations.entries()) {
      const role = isRecord(turn) && typeof turn.from === "string" ? ROLE_OF[turn.from] : undefined;
      if (!isRecord(turn) || role === undefined || typeof turn.value !== "string") {
        return {
          ok: false,
          path: [i, "conversations", j],
          message: 'expected {"from": "human" | "gpt" | "system", "value": string}',
        };
      }
      messages.push({ role, content: turn.value });
    }
    const first = messages.findIndex((m) => m.role === "user" && m.content !== "");
    const reply = messages[first + 1];
    if (first < 0 || reply === undefined || reply.role !== "assistant" || reply.content === "") {
      continue;
    }
    const id = typeof entry.id === "string" && entry.id !== "" ? entry.id : `C${i}`;
    prompts.push({
      id,
      text: (messages[first] as ChatMessage).content,
      messages: null,
      tokens: null,
      outputTokens: estimateTokens(reply.content),
      conversation: messages.slice(first),
    });
  }
  if (prompts.length === 0) {
    return {
      ok: false,
      path: [],
      message: "expected at least one conversation with a human turn and a reply",
    };
  }
  return { ok: true, prompts };
}
