/**
 * The OpenAI protocol details of vLLM v0.16.0 the simulator follows, each
 * against the file it comes from (vllm/entrypoints/openai/…).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimServer } from "../../sim/server.ts";
import { VOCAB_SIZE } from "../../sim/tokenizer.ts";
import { MODEL, postJson, sim, stream } from "./helpers.ts";

let server: SimServer;
beforeAll(async () => {
  server = await sim({ seed: 3, enableRequestIdHeaders: true });
});
afterAll(() => server.close());

const chat = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: "user", content: "Say something." }],
  max_tokens: 4,
  ignore_eos: true,
  ...extra,
});

describe("streaming (chat_completion/serving.py, completion/serving.py)", () => {
  it("sends the chat role chunk with the first token, after prefill, not with the headers", async () => {
    // Slow steps and a long prompt: prefill takes ≈100 ms.
    const own = await sim({ simTimeScale: 0.5, recordSteps: true });
    try {
      const prompt = "measure the time to first token ".repeat(300);
      const result = await stream(own.url, "/v1/chat/completions", {
        model: MODEL,
        messages: [{ role: "user", content: prompt }],
        max_tokens: 2,
        ignore_eos: true,
      });
      const [role, first] = result.events;
      expect(JSON.parse(role?.data ?? "{}").choices[0].delta).toEqual({
        role: "assistant",
        content: "",
      });
      const prefill = own.steps()[0] as { endMs: number; startMs: number };
      const prefillMs = prefill.endMs - prefill.startMs;
      expect(prefillMs).toBeGreaterThan(50);
      // The role chunk arrives when the first token does, one prefill after sending.
      expect((role?.atMs ?? 0) - result.sentMs).toBeGreaterThanOrEqual(prefillMs * 0.9);
      expect(Math.abs((first?.atMs ?? 0) - (role?.atMs ?? 0))).toBeLessThan(5);
    } finally {
      await own.close();
    }
  });

  it("serialises chunks key for key: role chunk, token_ids, stop_reason on the last chunk", async () => {
    const result = await stream(server.url, "/v1/chat/completions", chat());
    const [role, token, ...rest] = result.chunks;
    expect(Object.keys(role ?? {})).toEqual([
      "id",
      "object",
      "created",
      "model",
      "choices",
      "prompt_token_ids",
    ]);
    expect((token?.choices as object[] | undefined)?.[0]).toEqual({
      index: 0,
      delta: { content: expect.any(String) },
      logprobs: null,
      finish_reason: null,
      token_ids: null,
    });
    const last = (rest.at(-1)?.choices as Record<string, unknown>[] | undefined)?.[0];
    expect(last).toMatchObject({ finish_reason: "length", stop_reason: null, token_ids: null });
    expect(result.done).toBe(true);
  });

  it('completions chunks carry stop_reason, prompt_token_ids, token_ids and "usage": null', async () => {
    const result = await stream(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "count",
      max_tokens: 3,
      ignore_eos: true,
    });
    for (const chunk of result.chunks) {
      expect(Object.keys(chunk)).toEqual(["id", "object", "created", "model", "choices", "usage"]);
      expect(chunk.usage).toBeNull();
      expect(Object.keys((chunk.choices as object[])[0] as object)).toEqual([
        "index",
        "text",
        "logprobs",
        "finish_reason",
        "stop_reason",
        "prompt_token_ids",
        "token_ids",
      ]);
    }
  });

  it("stream_options: include_usage defaults to true; per-chunk usage needs both flags", async () => {
    const present = await stream(server.url, "/v1/chat/completions", chat({ stream_options: {} }));
    expect(present.chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
    const continuousOnly = await stream(
      server.url,
      "/v1/chat/completions",
      chat({ stream_options: { include_usage: false, continuous_usage_stats: true } }),
    );
    expect(continuousOnly.chunks.every((c) => c.usage === undefined)).toBe(true);
    const both = await stream(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "usage",
      max_tokens: 3,
      ignore_eos: true,
      stream_options: { continuous_usage_stats: true },
    });
    const perChunk = both.chunks
      .slice(0, -1)
      .map((c) => (c.usage as { completion_tokens: number }).completion_tokens);
    expect(perChunk).toEqual([1, 2, 3]);
    const absent = await stream(server.url, "/v1/chat/completions", chat());
    expect(absent.chunks.some((c) => "usage" in c)).toBe(false);
  });

  it("a stop string ends the stream with finish_reason stop and stop_reason the string", async () => {
    // Greedy and seeded: find a word the model writes, then stop on it.
    const probe = await postJson(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "stop probe",
      max_tokens: 6,
      ignore_eos: true,
      temperature: 0,
    });
    const text = String((probe.json.choices as { text: string }[])[0]?.text);
    const stop = text.trim().split(" ")[2] as string;
    const result = await stream(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "stop probe",
      max_tokens: 6,
      ignore_eos: true,
      temperature: 0,
      stop: [stop],
    });
    const last = (result.chunks.at(-1)?.choices as Record<string, unknown>[] | undefined)?.[0];
    expect(last).toMatchObject({ finish_reason: "stop", stop_reason: stop });
    const full = await postJson(server.url, "/v1/chat/completions", chat({ stream: false }));
    expect((full.json.choices as Record<string, unknown>[])[0]?.stop_reason).toBeNull();
  });

  it("a mid-stream error is an error event (Python json.dumps), then data: [DONE]", async () => {
    const own = await sim({ numGpuBlocksOverride: 4, blockSize: 16, enablePrefixCaching: false });
    try {
      const result = await stream(own.url, "/v1/completions", {
        model: MODEL,
        prompt: "far too long for four blocks ".repeat(40),
        max_tokens: 2,
      });
      expect(result.status).toBe(200);
      expect(result.events.map((e) => e.data.slice(0, 10))).toEqual(['{"error": ', "[DONE]"]);
      expect(result.events[0]?.data).toMatch(
        /^\{"error": \{"message": "[^"]+", "type": "BadRequestError", "param": null, "code": 400\}\}$/,
      );
    } finally {
      await own.close();
    }
  });
});

describe("request ids, models, vocabulary", () => {
  it("X-Request-Id becomes the response id (and, with --enable-request-id-headers, a response header)", async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "trace-42" },
      body: JSON.stringify(chat({ stream: false })),
    });
    expect(response.headers.get("x-request-id")).toBe("trace-42");
    expect(((await response.json()) as { id: string }).id).toBe("chatcmpl-trace-42");
    // Two requests with one id still run (the engine keeps its own ids).
    const both = await Promise.all(
      [0, 1].map(() =>
        postJson(
          server.url,
          "/v1/completions",
          { model: MODEL, prompt: "x", max_tokens: 2 },
          { "x-request-id": "dup" },
        ),
      ),
    );
    expect(both.map((r) => [r.status, r.json.id])).toEqual([
      [200, "cmpl-dup"],
      [200, "cmpl-dup"],
    ]);
  });

  it("/v1/models lists one ModelPermission per model (models/serving.py)", async () => {
    const body = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      data: { permission: Record<string, unknown>[] }[];
    };
    const [permission] = body.data[0]?.permission ?? [];
    expect(permission).toEqual({
      id: expect.stringMatching(/^modelperm-[0-9a-f]{32}$/),
      object: "model_permission",
      created: expect.any(Number),
      allow_create_engine: false,
      allow_sampling: true,
      allow_logprobs: true,
      allow_search_indices: false,
      allow_view: true,
      allow_fine_tuning: false,
      organization: "*",
      group: null,
      is_blocking: false,
    });
  });

  it("token ids stay within the model's vocabulary (Llama 3: 128,256)", async () => {
    expect(VOCAB_SIZE).toBeLessThanOrEqual(128_256);
    const text = "Mixed CASE, digits 12345 and punctuation!? Ünïcödé too. ".repeat(20);
    const tokens = (await postJson(server.url, "/tokenize", { prompt: text })).json
      .tokens as number[];
    expect(Math.max(...tokens)).toBeLessThan(VOCAB_SIZE);
    const back = await postJson(server.url, "/detokenize", { tokens });
    expect(back.json.prompt).toBe(text);
    const out = await postJson(server.url, "/detokenize", { tokens: [VOCAB_SIZE] });
    expect(out.status).toBe(400);
  });
});
