/**
 * Prompt sets, pure: parsing prompt files (text already read) and generating
 * synthetic prompts of a target token length. Reading files and asking the
 * server's `/tokenize` happen in `load/node/prompt-files.ts`; k6 receives the
 * prepared set as JSON.
 */
import { createRng, type Rng } from "../../stats/rng.ts";

export interface ChatMessage {
  role: string;
  content: string;
}

export interface Prompt {
  /** Stable within the set: the line number for files, the index for synthetic sets. */
  id: string;
  /** Plain prompt text (files with one prompt a line, JSONL `prompt`, synthetic). */
  text: string | null;
  /** A whole conversation (JSONL `messages`). */
  messages: ChatMessage[] | null;
  /** Prompt length in tokens when known before sending (synthetic sets); null otherwise. */
  tokens: number | null;
  /**
   * The request's `max_tokens` when the set decides it (a dataset's reply
   * length, JSONL `output_tokens`, a synthetic output distribution); absent:
   * the experiment's `max_tokens`.
   */
  outputTokens?: number;
  /** The whole conversation from this prompt on (ShareGPT), replayed by multi-turn sessions. */
  conversation?: ChatMessage[];
}

export interface PreparedPromptSet {
  name: string;
  source: "file" | "synthetic";
  prompts: Prompt[];
  /** true when `tokens` came from a characters-per-token estimate, not the server's tokenizer. */
  tokensEstimated: boolean;
}

/** The token-length distribution of a synthetic set (config/schema.ts `TokenDist`). */
export type TokenDistSpec = (
  | { dist: "fixed"; mean: number }
  | { dist: "uniform"; min: number; max: number }
  | { dist: "normal"; mean: number; std: number; min?: number; max?: number }
) & {
  /** Prefix sharing: every prompt starts with one of `groups` shared prefixes of `prefix` tokens. */
  prefix?: number;
  groups?: number;
};

export type PromptParseResult =
  | { ok: true; prompts: Prompt[] }
  | { ok: false; line: number; field: string; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseMessages(value: unknown): ChatMessage[] | string {
  if (!Array.isArray(value) || value.length === 0) return "expected a non-empty array";
  const messages: ChatMessage[] = [];
  for (const [i, m] of value.entries()) {
    if (!isRecord(m) || typeof m.role !== "string" || typeof m.content !== "string") {
      return `messages[${i}]: expected {"role": string, "content": string}`;
    }
    messages.push({ role: m.role, content: m.content });
  }
  return messages;
}

/**
 * `lines`: one prompt a line, blank lines skipped. `jsonl`: one JSON object a
 * line with `prompt` (a string) or `messages` (chat messages).
 */
export function parsePromptText(text: string, format: "lines" | "jsonl"): PromptParseResult {
  const prompts: Prompt[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const lineNo = index + 1;
    if (format === "lines") {
      prompts.push({ id: `L${lineNo}`, text: line, messages: null, tokens: null });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, line: lineNo, field: "", message: "expected one JSON object a line" };
    }
    if (!isRecord(value)) {
      return { ok: false, line: lineNo, field: "", message: "expected a JSON object" };
    }
    const out = value.output_tokens;
    if (out !== undefined && !(typeof out === "number" && Number.isInteger(out) && out >= 1)) {
      return {
        ok: false,
        line: lineNo,
        field: "output_tokens",
        message: "expected a whole number ≥ 1",
      };
    }
    const outputTokens = out === undefined ? {} : { outputTokens: out };
    if (typeof value.prompt === "string" && value.prompt !== "") {
      prompts.push({
        id: `L${lineNo}`,
        text: value.prompt,
        messages: null,
        tokens: null,
        ...outputTokens,
      });
    } else if (value.messages !== undefined) {
      const messages = parseMessages(value.messages);
      if (typeof messages === "string") {
        return { ok: false, line: lineNo, field: "messages", message: messages };
      }
      prompts.push({ id: `L${lineNo}`, text: null, messages, tokens: null, ...outputTokens });
    } else {
      return {
        ok: false,
        line: lineNo,
        field: "prompt",
        message: 'expected "prompt" (a non-empty string) or "messages" (chat messages)',
      };
    }
  }
  if (prompts.length === 0) {
    return { ok: false, line: 1, field: "", message: "expected at least one prompt" };
  }
  return { ok: true, prompts };
}

/** Draw `count` prompt lengths (tokens, ≥ 1) from the distribution. */
export function drawTokenLengths(dist: TokenDistSpec, count: number, rng: Rng): number[] {
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) {
    let n: number;
    if (dist.dist === "fixed") n = dist.mean;
    else if (dist.dist === "uniform") n = rng.intBetween(dist.min, dist.max);
    else {
      n = Math.round(dist.mean + dist.std * rng.normal());
      if (dist.min !== undefined) n = Math.max(dist.min, n);
      if (dist.max !== undefined) n = Math.min(dist.max, n);
    }
    lengths.push(Math.max(1, n));
  }
  return lengths;
}

// Short, common words: random sequences of them defeat prefix caching while
// staying close to a real tokenizer's ~1 token per word.
const WORDS = (
  "time year people way day man thing woman life child world school state family student " +
  "group country problem hand part place case week company system program question work " +
  "government number night point home water room mother area money story fact month lot " +
  "right study book eye job word business issue side kind head house service friend father " +
  "power hour game line end member law car city community name president team minute idea " +
  "kid body information back parent face others level office door health person art war " +
  "history party result change morning reason research girl guy moment air teacher force " +
  "education foot boy age policy music market sense nation plan college interest death " +
  "experience effect use class control care field development role effort rate heart drug"
).split(" ");

/** A deterministic stream of words for one prompt. */
export function promptWords(rng: Rng, count: number): string[] {
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push(WORDS[rng.int(WORDS.length)] as string);
  return words;
}

/** Text of about `tokens` tokens at `charsPerToken`, cut at a word boundary. */
export function estimatedPromptText(
  words: readonly string[],
  tokens: number,
  charsPerToken: number,
) {
  const targetChars = Math.max(1, Math.round(tokens * charsPerToken));
  let text = "";
  for (const word of words) {
    if (text.length >= targetChars) break;
    text = text === "" ? word : `${text} ${word}`;
  }
  return text.slice(0, targetChars);
}

/** Counts the tokens of a text with the target's tokenizer (POST /tokenize). */
export type CountTokens = (text: string) => Promise<number>;

/**
 * The word count whose text has exactly `target` tokens, found by bisection on
 * the (monotone) token count of word prefixes. When no prefix hits the target
 * exactly (a boundary word is several tokens), the longest prefix below it wins.
 * Returns the text and its measured token count.
 */
export async function calibratePromptText(
  words: readonly string[],
  target: number,
  countTokens: CountTokens,
): Promise<{ text: string; tokens: number }> {
  const textOf = (n: number) => words.slice(0, n).join(" ");
  let lo = 1;
  let hi = Math.min(words.length, Math.max(1, target));
  let hiCount = await countTokens(textOf(hi));
  // Grow until the upper bound reaches the target (words of several tokens are rare).
  while (hiCount < target && hi < words.length) {
    lo = hi;
    hi = Math.min(words.length, hi * 2);
    hiCount = await countTokens(textOf(hi));
  }
  if (hiCount <= target) return { text: textOf(hi), tokens: hiCount };
  let best = { text: textOf(lo), tokens: await countTokens(textOf(lo)) };
  if (best.tokens >= target) return best;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const count = await countTokens(textOf(mid));
    if (count === target) return { text: textOf(mid), tokens: count };
    if (count < target) {
      lo = mid;
      best = { text: textOf(mid), tokens: count };
    } else hi = mid;
  }
  return best;
}

export interface SyntheticOptions {
  name: string;
  tokens: TokenDistSpec;
  /** Per-prompt `max_tokens` drawn from this distribution; absent: the experiment's. */
  outputTokens?: TokenDistSpec;
  count: number;
  charsPerToken: number;
  seed: number;
  /** Present when the target has a tokenizer endpoint: lengths become exact. */
  countTokens?: CountTokens;
  /** How many prompts are calibrated at once. */
  concurrency?: number;
}

/** The text of about `target` tokens from `words`: calibrated when a tokenizer is at hand. */
async function textOfTokens(
  words: readonly string[],
  target: number,
  opts: SyntheticOptions,
): Promise<{ text: string; tokens: number }> {
  if (opts.countTokens) return calibratePromptText(words, target, opts.countTokens);
  return { text: estimatedPromptText(words, target, opts.charsPerToken), tokens: target };
}

/** Word stream of a prompt or a shared prefix: each its own RNG stream, so order cannot matter. */
const wordsFor = (seed: number, stream: number, tokens: number) =>
  promptWords(createRng(seed, stream), Math.ceil(tokens * 1.5) + 8);

/**
 * A seeded synthetic prompt set: the same seed gives the same prompts. With
 * `prefix`/`groups`, prompt i starts with group (i mod groups)'s shared prefix
 * and its drawn length is the unique part after it (the workload prefix
 * caching exists for: vLLM reuses the prefix's KV blocks).
 */
export async function buildSyntheticPromptSet(opts: SyntheticOptions): Promise<PreparedPromptSet> {
  const lengthRng = createRng(opts.seed, 0x5eed);
  const lengths = drawTokenLengths(opts.tokens, opts.count, lengthRng);
  const outputs = opts.outputTokens
    ? drawTokenLengths(opts.outputTokens, opts.count, createRng(opts.seed, 0x0a7b))
    : null;
  const prefixTokens = opts.tokens.prefix ?? 0;
  const groups = prefixTokens > 0 ? (opts.tokens.groups ?? 1) : 0;
  const prefixes: { text: string; tokens: number }[] = [];
  for (let g = 0; g < groups; g++) {
    prefixes.push(
      await textOfTokens(wordsFor(opts.seed, 0x20000 + g, prefixTokens), prefixTokens, opts),
    );
  }
  const prompts: Prompt[] = new Array(lengths.length);
  const make = async (i: number): Promise<void> => {
    const target = lengths[i] as number;
    const own = await textOfTokens(wordsFor(opts.seed, 0x10000 + i, target), target, opts);
    const prefix = groups > 0 ? (prefixes[i % groups] as { text: string; tokens: number }) : null;
    const output = outputs ? { outputTokens: outputs[i] as number } : {};
    const text = prefix ? `${prefix.text} ${own.text}` : own.text;
    // Joined texts may tokenize differently at the seam: count the whole when we can.
    let tokens = own.tokens + (prefix?.tokens ?? 0);
    if (prefix && opts.countTokens) tokens = await opts.countTokens(text);
    prompts[i] = { id: `S${i}`, text, messages: null, tokens, ...output };
  };
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < lengths.length) await make(nextIndex++);
  };
  const workers = Math.max(1, Math.min(opts.concurrency ?? 8, lengths.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return {
    name: opts.name,
    source: "synthetic",
    prompts,
    tokensEstimated: opts.countTokens === undefined,
  };
}

/** The prompt as one string, for the completions API. */
export function promptAsText(prompt: Prompt): string {
  if (prompt.text !== null) return prompt.text;
  return (prompt.messages ?? []).map((m) => m.content).join("\n");
}

/** The prompt as chat messages, for the chat API. */
export function promptAsMessages(prompt: Prompt): ChatMessage[] {
  if (prompt.messages !== null) return prompt.messages;
  return [{ role: "user", content: prompt.text ?? "" }];
}
