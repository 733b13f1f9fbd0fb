/**
 * The SSE bytes of one streamed request, built without a `JSON.stringify` per
 * token. A token chunk differs from the request's other token chunks only in
 * its text, so the chunk is cut once per request around a sentinel text into
 * a prefix and a suffix, and each token is `prefix + quoted text + suffix`.
 * The result is byte-identical to `sseData(streamChunk(…))` by construction;
 * the rarer chunks (role, final token, continuous usage, usage) still go
 * through `streamChunk` itself.
 */
import { type ApiKind, type ChunkBase, streamChunk, type Usage, usageChunk } from "./openai.ts";
import { sseData } from "./sse.ts";

/** A text no request can produce (NUL bytes are never generated), so the cut is unambiguous. */
const SENTINEL = "\u0000vscale-text\u0000";
const SENTINEL_JSON = JSON.stringify(SENTINEL);

/** Each `text` quoted as JSON, for texts used over and over (the generated words). */
export function quoteAll(texts: readonly string[]): string[] {
  return texts.map((text) => JSON.stringify(text));
}

export class StreamChunkEncoder {
  private readonly kind: ApiKind;
  private readonly base: ChunkBase;
  private readonly prefix: string;
  private readonly suffix: string;

  constructor(kind: ApiKind, base: ChunkBase) {
    this.kind = kind;
    this.base = base;
    const template = sseData(streamChunk(kind, base, SENTINEL, null));
    const at = template.indexOf(SENTINEL_JSON);
    this.prefix = template.slice(0, at);
    this.suffix = template.slice(at + SENTINEL_JSON.length);
  }

  /** The chat role-only first chunk; `usage`: continuous usage (no completion tokens yet). */
  role(usage?: Usage): string {
    return sseData(streamChunk(this.kind, this.base, "", null, { role: true, usage }));
  }

  /**
   * One token chunk; `quotedText` is the token's text already quoted as JSON.
   * The last chunk carries the finish and stop reasons; `usage` is continuous usage stats.
   */
  token(
    quotedText: string,
    finishReason: string | null,
    usage?: Usage,
    stopReason: string | null = null,
  ): string {
    if (finishReason === null && usage === undefined) return this.prefix + quotedText + this.suffix;
    const text = JSON.parse(quotedText) as string;
    return sseData(streamChunk(this.kind, this.base, text, finishReason, { usage, stopReason }));
  }

  /** The usage-only chunk before `[DONE]`. */
  usage(usage: Usage): string {
    return sseData(usageChunk(this.kind, this.base, usage));
  }
}
