/**
 * The fast streaming path (chunks cut around a sentinel, a step's writes
 * batched per socket by the flusher) must send exactly the bytes the plain
 * path builds with `streamChunk` + `sseData`, one event per token. The words
 * are derived here independently, from the request's seed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiKind,
  prepareRequest,
  type ServingContext,
  streamChunk,
  usageChunk,
  usageOf,
} from "../../sim/http/openai.ts";
import { SSE_DONE, sseData } from "../../sim/http/sse.ts";
import type { SimServer } from "../../sim/server.ts";
import { GENERATED_WORDS } from "../../sim/tokenizer.ts";
import { MODEL, sim } from "./helpers.ts";

const SEED = 5;
let server: SimServer;
beforeAll(async () => {
  server = await sim({ seed: SEED, simTimeScale: 50 });
});
afterAll(() => server.close());

/** The body a request must stream, built chunk by chunk the plain way. */
function expectedStream(
  kind: ApiKind,
  body: Record<string, unknown>,
  base: { id: string; created: number; model: string },
): string {
  const ctx: ServingContext = {
    servedNames: [MODEL],
    maxModelLen: server.options.maxModelLenResolved,
    meanOutputTokens: server.options.profile.meanOutputTokens,
    seed: SEED,
    // temperature 0 seeds from the prompt, not from the request number.
    nextRequestNumber: () => 0,
  };
  const prepared = prepareRequest(kind, body, ctx);
  let text = kind === "chat" ? sseData(streamChunk(kind, base, "", null, { role: true })) : "";
  const n = prepared.outputTokens;
  for (let i = 0; i < n; i++) {
    const word = GENERATED_WORDS[Math.floor(prepared.random() * GENERATED_WORDS.length)] as string;
    text += sseData(streamChunk(kind, base, word, i === n - 1 ? "length" : null));
  }
  text += sseData(usageChunk(kind, base, usageOf(prepared.promptTokenIds.length, n)));
  return text + SSE_DONE;
}

async function streamedBody(path: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return response.text();
}

function baseOf(streamed: string): { id: string; created: number; model: string } {
  const first = JSON.parse(streamed.slice("data: ".length, streamed.indexOf("\n\n"))) as {
    id: string;
    created: number;
    model: string;
  };
  return { id: first.id, created: first.created, model: first.model };
}

describe("streamed bytes", () => {
  for (const kind of ["completion", "chat"] as const) {
    it(`${kind}: byte-identical to chunk-by-chunk streamChunk + sseData`, async () => {
      const body: Record<string, unknown> = {
        model: MODEL,
        ...(kind === "chat"
          ? { messages: [{ role: "user", content: 'Say something "quoted" and \\ odd.' }] }
          : { prompt: "byte-exact probe" }),
        max_tokens: 17,
        ignore_eos: true,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      };
      const path = kind === "chat" ? "/v1/chat/completions" : "/v1/completions";
      const streamed = await streamedBody(path, body);
      expect(streamed).toBe(expectedStream(kind, body, baseOf(streamed)));
    });
  }

  it("many concurrent streams each get every event, in order", async () => {
    const bodies = Array.from({ length: 40 }, (_, i) => ({
      model: MODEL,
      prompt: `concurrent probe ${i}`,
      max_tokens: 25,
      ignore_eos: true,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }));
    const streamed = await Promise.all(bodies.map((b) => streamedBody("/v1/completions", b)));
    streamed.forEach((text, i) => {
      expect(text).toBe(
        expectedStream("completion", bodies[i] as Record<string, unknown>, baseOf(text)),
      );
    });
  });
});
