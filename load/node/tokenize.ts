/**
 * vLLM's `POST /tokenize` (a sibling of `/v1`, not under it): counts prompt
 * tokens with the served model's own tokenizer. Servers without it (most
 * non-vLLM endpoints) answer 404, and we fall back to an estimate.
 */
import { request } from "undici";
import type { CountTokens } from "../workload/prompts.ts";
import { parseTargetUrl } from "./target-url.ts";

function isCount(value: unknown): value is { count: number } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { count?: unknown }).count === "number"
  );
}

/**
 * A token counter for the server at `baseUrl`, or null when it has no working
 * `/tokenize`. Special tokens are left out: the count is of the text itself.
 */
export async function probeTokenizer(
  baseUrl: string,
  model: string,
  apiKey?: string,
): Promise<CountTokens | null> {
  const target = parseTargetUrl(baseUrl, "tokenizeUrl");
  const url = `${target.origin}${target.basePath}/tokenize`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const count: CountTokens = async (text) => {
    const res = await request(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ model, prompt: text, add_special_tokens: false }),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const body: unknown = await res.body.json().catch(() => null);
    if (res.statusCode !== 200 || !isCount(body)) {
      throw new Error(`POST /tokenize answered HTTP ${res.statusCode}`);
    }
    return body.count;
  };
  try {
    await count("hello world");
    return count;
  } catch {
    return null;
  }
}
