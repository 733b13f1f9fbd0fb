/**
 * Error statuses and bodies as vLLM v0.16.0 writes them: `{"error": {message,
 * type, param, code}}` (vllm/entrypoints/openai/engine/protocol.py ErrorResponse).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimServer } from "../../sim/server.ts";
import { MODEL, postJson, sim } from "./helpers.ts";

let server: SimServer;
beforeAll(async () => {
  server = await sim({ maxModelLen: 64, apiKey: "sk-test-secret" });
});
afterAll(() => server.close());

const auth = { authorization: "Bearer sk-test-secret" };
const messages = [{ role: "user", content: "hi" }];

describe("4xx catalogue", () => {
  const cases: [string, string, unknown, number, RegExp][] = [
    ["bad JSON", "/v1/chat/completions", "{not json", 400, /JSON decode error/],
    ["messages missing", "/v1/chat/completions", { model: MODEL }, 400, /messages/],
    [
      "max_tokens wrong type",
      "/v1/chat/completions",
      { model: MODEL, messages, max_tokens: "ten" },
      400,
      /max_tokens/,
    ],
    [
      "max_tokens zero",
      "/v1/completions",
      { model: MODEL, prompt: "x", max_tokens: 0 },
      400,
      /max_tokens/,
    ],
    [
      "negative temperature",
      "/v1/completions",
      { model: MODEL, prompt: "x", temperature: -1 },
      400,
      /temperature/,
    ],
    [
      "n > 1",
      "/v1/chat/completions",
      { model: MODEL, messages, n: 2 },
      400,
      /n > 1 is not supported/,
    ],
    ["best_of", "/v1/completions", { model: MODEL, prompt: "x", best_of: 3 }, 400, /best_of/],
    [
      "logprobs",
      "/v1/chat/completions",
      { model: MODEL, messages, logprobs: true },
      400,
      /logprobs/,
    ],
    [
      "batched prompts",
      "/v1/completions",
      { model: MODEL, prompt: ["a", "b"] },
      400,
      /batched prompts/,
    ],
    [
      "min_tokens > max_tokens",
      "/v1/completions",
      { model: MODEL, prompt: "x", max_tokens: 2, min_tokens: 5 },
      400,
      /min_tokens/,
    ],
    [
      "prompt longer than max-model-len",
      "/v1/completions",
      { model: MODEL, prompt: "word ".repeat(100) },
      400,
      /maximum context length is 64 tokens/,
    ],
    [
      "prompt + max_tokens too long",
      "/v1/completions",
      { model: MODEL, prompt: "x", max_tokens: 64 },
      400,
      /maximum context length/,
    ],
    [
      "unknown token id",
      "/v1/completions",
      { model: MODEL, prompt: [99_999_999] },
      400,
      /^Token id 99999999 is out of vocabulary$/,
    ],
    [
      "stream_options without stream",
      "/v1/completions",
      { model: MODEL, prompt: "x", stream_options: { include_usage: true } },
      400,
      /^Stream options can only be defined when `stream=True`\.$/,
    ],
    [
      "wrong model",
      "/v1/chat/completions",
      { model: "gpt-4", messages },
      404,
      /The model `gpt-4` does not exist/,
    ],
  ];
  for (const [name, path, body, status, message] of cases) {
    it(`${name} → ${status}`, async () => {
      const response = await postJson(server.url, path, body, auth);
      expect(response.status).toBe(status);
      const error = response.json.error as Record<string, unknown>;
      expect(Object.keys(response.json)).toEqual(["error"]);
      expect(Object.keys(error)).toEqual(["message", "type", "param", "code"]);
      expect(error.code).toBe(status);
      expect(String(error.message)).toMatch(message);
      // Body validation fails as FastAPI's RequestValidationError ("Bad Request"),
      // serving checks as the exception class (BadRequestError, NotFoundError).
      if (/JSON|messages|wrong type|zero|temperature|stream_options/.test(name))
        expect(error.type).toBe("Bad Request");
      else expect(error.type).toBe(status === 404 ? "NotFoundError" : "BadRequestError");
    });
  }

  it("wrong or missing API key → 401 on /v1, open elsewhere", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }] as Record<string, string>[]) {
      const response = await postJson(
        server.url,
        "/v1/chat/completions",
        { model: MODEL, messages },
        headers,
      );
      expect(response.status).toBe(401);
      expect(response.json).toEqual({ error: "Unauthorized" });
      expect(response.text).not.toContain("sk-test-secret");
    }
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${server.url}/v1/models`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });

  it("unknown route → 404, wrong method → 405", async () => {
    expect((await fetch(`${server.url}/v2/nothing`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/chat/completions`, { headers: auth })).status).toBe(405);
  });

  it("tokenize with a wrong model → 404, bad body → 400", async () => {
    expect((await postJson(server.url, "/tokenize", { model: "other", prompt: "x" })).status).toBe(
      404,
    );
    expect((await postJson(server.url, "/tokenize", { prompt: 5 })).status).toBe(400);
    expect((await postJson(server.url, "/detokenize", { tokens: ["a"] })).status).toBe(400);
  });

  it("the server still serves after errors", async () => {
    const ok = await postJson(
      server.url,
      "/v1/completions",
      { model: MODEL, prompt: "x", max_tokens: 3 },
      auth,
    );
    expect(ok.status).toBe(200);
  });
});
