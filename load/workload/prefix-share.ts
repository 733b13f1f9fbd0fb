/**
 * How much of a prompt set a prefix cache could reuse: the share of prompt
 * characters that lie in a leading run shared with at least one other prompt
 * of the set, measured on the text as sent (promptAsText), so synthetic
 * `prefix`/`groups` sets, files and datasets are measured alike. The
 * classifier's `cache` class (analysis/why/classify.ts) compares it with the
 * server's prefix-cache hit rate. Pure, no Node APIs (k6 loads the workload core).
 */
import { type Prompt, promptAsText } from "./prompts.ts";

/**
 * Shared runs shorter than this count as not shared: a prefix cache reuses
 * whole KV blocks (vLLM's default 16 tokens, about 64 characters at 4
 * characters per token), so a common opening like "What is the " never hits.
 */
export const MIN_SHARED_PREFIX_CHARS = 64;

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Σ (longest leading run each prompt shares with another prompt, if ≥
 * MIN_SHARED_PREFIX_CHARS) / Σ prompt length, in characters; 0 for a set of
 * one prompt or of empty texts. Prompts are sorted once: a string's longest
 * common prefix with any other is the one with a sorted neighbour.
 */
export function promptPrefixShare(prompts: readonly Prompt[]): number {
  const texts = prompts.map(promptAsText).sort();
  let total = 0;
  let shared = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i] as string;
    const before = i > 0 ? commonPrefixLength(text, texts[i - 1] as string) : 0;
    const after = i + 1 < texts.length ? commonPrefixLength(text, texts[i + 1] as string) : 0;
    const run = Math.max(before, after);
    total += text.length;
    if (run >= MIN_SHARED_PREFIX_CHARS) shared += run;
  }
  return total === 0 ? 0 : shared / total;
}
