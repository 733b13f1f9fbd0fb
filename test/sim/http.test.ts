import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimServer } from "../../sim/server.ts";
import { MODEL, metricValue, pieces, postJson, sim, stream } from "./helpers.ts";

let server: SimServer;
beforeAll(async () => {
  server = await sim({ seed: 7 });
});
afterAll(() => server.close());

const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: "user", content: "Explain tensor parallelism in one sentence." }],
  ...extra,
});

describe("simulator over HTTP", () => {
  it("serves health, version and models", async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const version = (await (await fetch(`${server.url}/version`)).json()) as { version: string };
    expect(version.version).toMatch(/^\d+\.\d+\.\d+/);
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      data: { id: string }[];
    };
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it("streams chat as vLLM does: role chunk, one chunk per token, finish, usage, [DONE]", async () => {
    const result = await stream(
      server.url,
      "/v1/chat/completions",
      chatBody({ max_tokens: 12, ignore_eos: true, stream_options: { include_usage: true } }),
    );
    expect(result.status).toBe(200);
    expect(result.done).toBe(true);
    const first = result.chunks[0] as {
      choices: { delta: Record<string, unknown> }[];
      object: string;
    };
    expect(first.object).toBe("chat.completion.chunk");
    expect(first.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const tokens = pieces(result.chunks);
    expect(tokens).toHaveLength(12);
    expect(tokens.slice(0, -1).every((t) => t.finish === null)).toBe(true);
    expect(tokens.at(-1)?.finish).toBe("length");
    const usageChunk = result.chunks.at(-1) as {
      choices: unknown[];
      usage: Record<string, number>;
    };
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBe(12);
    // Every chunk carries the same id.
    expect(new Set(result.chunks.map((c) => c.id)).size).toBe(1);

    // usage agrees with /tokenize for both the prompt and the generated text.
    const prompt = await postJson(server.url, "/tokenize", {
      model: MODEL,
      messages: chatBody().messages,
    });
    expect(prompt.json?.count).toBe(usageChunk.usage.prompt_tokens);
    const output = await postJson(server.url, "/tokenize", {
      prompt: tokens.map((t) => t.text).join(""),
    });
    expect(output.json?.count).toBe(12);
  });

  it("streams completions and answers non-streaming requests with usage", async () => {
    const s = await stream(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "The GPU",
      max_tokens: 5,
      ignore_eos: true,
    });
    expect(s.done).toBe(true);
    expect((s.chunks[0] as { object: string }).object).toBe("text_completion");
    expect(pieces(s.chunks)).toHaveLength(5);

    const chat = await postJson(
      server.url,
      "/v1/chat/completions",
      chatBody({ max_completion_tokens: 9, ignore_eos: true }),
    );
    expect(chat.status).toBe(200);
    const usage = chat.json?.usage as Record<string, number>;
    expect(usage.completion_tokens).toBe(9);
    const content =
      (chat.json.choices as { message: { content: string } }[])[0]?.message.content ?? "";
    const count = await postJson(server.url, "/tokenize", { prompt: content });
    expect(count.json?.count).toBe(9);
  });

  it("honours min_tokens, stop and seeded output lengths", async () => {
    const a = await postJson(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "hi",
      max_tokens: 400,
      seed: 3,
    });
    const b = await postJson(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "hi",
      max_tokens: 400,
      seed: 3,
    });
    expect(a.json?.choices).toEqual(b.json?.choices);
    const min = await postJson(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "hi",
      max_tokens: 300,
      min_tokens: 250,
      seed: 1,
    });
    expect(
      (min.json.usage as { completion_tokens: number }).completion_tokens,
    ).toBeGreaterThanOrEqual(250);

    const long = await postJson(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "x",
      max_tokens: 60,
      ignore_eos: true,
      seed: 5,
    });
    const text = (long.json.choices as { text: string }[])[0]?.text ?? "";
    const stopWord = text.split(" ").filter(Boolean)[10] as string;
    const stopped = await postJson(server.url, "/v1/completions", {
      model: MODEL,
      prompt: "x",
      max_tokens: 60,
      ignore_eos: true,
      seed: 5,
      stop: [` ${stopWord}`],
    });
    const choice = (stopped.json.choices as { text: string; finish_reason: string }[])[0];
    expect(choice?.finish_reason).toBe("stop");
    expect(choice?.text).toBe(text.slice(0, text.indexOf(` ${stopWord}`)));
  });

  it("detokenize inverts tokenize", async () => {
    const text = "Hello, wörld! 12345 tokens";
    const ids = (await postJson(server.url, "/tokenize", { prompt: text })).json?.tokens;
    const back = await postJson(server.url, "/detokenize", { tokens: ids });
    expect(back.json?.prompt).toBe(text);
  });

  it("metric counters equal what was served", async () => {
    const own = await sim({ seed: 1 });
    try {
      const results = await Promise.all(
        [3, 5, 8, 13].map((n, i) =>
          stream(own.url, "/v1/completions", {
            model: MODEL,
            prompt: `prompt number ${i} `.repeat(n),
            max_tokens: n,
            ignore_eos: true,
            stream_options: { include_usage: true },
          }),
        ),
      );
      const usages = results.map(
        (r) => (r.chunks.at(-1) as { usage: Record<string, number> }).usage,
      );
      const text = await (await fetch(`${own.url}/metrics`)).text();
      const sum = (key: string) => usages.reduce((s, u) => s + (u[key] as number), 0);
      expect(metricValue(text, "vllm:prompt_tokens_total", { model_name: MODEL })).toBe(
        sum("prompt_tokens"),
      );
      expect(metricValue(text, "vllm:generation_tokens_total")).toBe(sum("completion_tokens"));
      expect(metricValue(text, "vllm:request_success_total", { finished_reason: "length" })).toBe(
        4,
      );
      expect(metricValue(text, "vllm:e2e_request_latency_seconds_count")).toBe(4);
      expect(metricValue(text, "vllm:time_to_first_token_seconds_count")).toBe(4);
      expect(metricValue(text, "vllm:inter_token_latency_seconds_count")).toBe(
        sum("completion_tokens") - 4,
      );
      expect(metricValue(text, "vllm:num_requests_running")).toBe(0);
      expect(text).toContain(
        'vllm:kv_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0',
      );
      expect(text).toContain("# TYPE vllm:time_to_first_token_seconds histogram");
      expect(text).toContain('vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001"');
      expect(text).toContain('vllm:e2e_request_latency_seconds_bucket{engine="0",le="7680.0"');
      for (const name of [
        "vllm:prefix_cache_queries_total",
        "vllm:prefix_cache_hits_total",
        "vllm:num_preemptions_total",
        "vllm:request_queue_time_seconds",
        "vllm:request_prefill_time_seconds",
        "vllm:request_decode_time_seconds",
        "vllm:request_inference_time_seconds",
      ]) {
        expect(text).toContain(`# TYPE ${name}`);
      }
    } finally {
      await own.close();
    }
  });

  it("prefix caching: a repeated long prompt hits the cache", async () => {
    const own = await sim();
    try {
      const prompt = "shared system prompt with plenty of words ".repeat(40);
      for (let i = 0; i < 2; i++)
        await postJson(own.url, "/v1/completions", {
          model: MODEL,
          prompt,
          max_tokens: 2,
          ignore_eos: true,
        });
      const text = await (await fetch(`${own.url}/metrics`)).text();
      expect(metricValue(text, "vllm:prefix_cache_hits_total")).toBeGreaterThan(0);
      expect(metricValue(text, "vllm:prefix_cache_queries_total")).toBeGreaterThan(
        metricValue(text, "vllm:prefix_cache_hits_total"),
      );
    } finally {
      await own.close();
    }
  });

  it("scarce KV blocks cause preemptions, and every request still finishes", async () => {
    const own = await sim({
      numGpuBlocksOverride: 40,
      blockSize: 16,
      simTimeScale: 200,
      enablePrefixCaching: false,
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          stream(own.url, "/v1/completions", {
            model: MODEL,
            prompt: `request ${i} `.repeat(40),
            max_tokens: 60,
            ignore_eos: true,
          }),
        ),
      );
      for (const r of results) {
        expect(r.done).toBe(true);
        expect(pieces(r.chunks)).toHaveLength(60);
      }
      const text = await (await fetch(`${own.url}/metrics`)).text();
      expect(metricValue(text, "vllm:num_preemptions_total")).toBeGreaterThan(0);
      expect(own.engines[0]?.kv.usedBlocks()).toBe(0);
    } finally {
      await own.close();
    }
  });

  it("a client disconnect aborts the request and frees its blocks", async () => {
    const own = await sim({ simTimeScale: 1 });
    try {
      const controller = new AbortController();
      const response = await fetch(`${own.url}/v1/completions`, {
        method: "POST",
        body: JSON.stringify({
          model: MODEL,
          prompt: "long one",
          max_tokens: 5000,
          ignore_eos: true,
          stream: true,
        }),
        signal: controller.signal,
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      await reader.read();
      expect(own.engines[0]?.kv.usedBlocks()).toBeGreaterThan(0);
      controller.abort();
      for (let i = 0; i < 100 && own.activeRequests() > 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(own.activeRequests()).toBe(0);
      expect(own.engines[0]?.kv.usedBlocks()).toBe(0);
      // vLLM's OutputProcessor.abort_requests finishes a client abort without request stats.
      const text = await (await fetch(`${own.url}/metrics`)).text();
      expect(metricValue(text, "vllm:request_success_total")).toBe(0);
    } finally {
      await own.close();
    }
  });

  it("measured TTFT and ITL match the engine's own step timeline", async () => {
    // Slow steps (≈70 ms) so loopback and event-loop delays are small beside them.
    const own = await sim({ simTimeScale: 0.1, recordSteps: true });
    try {
      const result = await stream(own.url, "/v1/completions", {
        model: MODEL,
        prompt: "timing probe",
        max_tokens: 8,
        ignore_eos: true,
      });
      const tokenTimes = result.events.filter((e) => e.data !== "[DONE]").map((e) => e.atMs);
      const steps = own.steps();
      expect(steps).toHaveLength(8);
      const clientTtft = (tokenTimes[0] as number) - result.sentMs;
      const engineTtft =
        (steps[0] as { endMs: number }).endMs - (steps[0] as { startMs: number }).startMs;
      // The client also pays connection setup and parsing: a few ms at most, never less than the step.
      expect(clientTtft).toBeGreaterThanOrEqual(engineTtft - 1);
      expect(clientTtft - engineTtft).toBeLessThan(engineTtft * 0.5);
      for (let i = 1; i < 8; i++) {
        const clientItl = (tokenTimes[i] as number) - (tokenTimes[i - 1] as number);
        const engineItl =
          (steps[i] as { endMs: number }).endMs - (steps[i - 1] as { endMs: number }).endMs;
        expect(Math.abs(clientItl - engineItl)).toBeLessThan(engineItl * 0.3);
        // Each step lasted what the cost model priced (plus timer lateness).
        const step = steps[i] as { endMs: number; startMs: number; scheduledMs: number };
        expect(step.endMs - step.startMs).toBeGreaterThanOrEqual(step.scheduledMs);
      }
    } finally {
      await own.close();
    }
  });
});
