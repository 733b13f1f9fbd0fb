import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPlainTextChunk, parseStreamPayload } from "../../load/workload/openai-stream.ts";
import { type SseEvent, SseParser } from "../../load/workload/sse.ts";

/** Text of one event, written with the given line ending and optional comments. */
function serialize(event: SseEvent, eol: string, comment: boolean): string {
  let out = comment ? `: keep-alive${eol}` : "";
  if (event.event !== "message") out += `event: ${event.event}${eol}`;
  for (const line of event.data.split("\n")) out += `data: ${line}${eol}`;
  return `${out}${eol}`;
}

function parseSplit(text: string, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let last = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    events.push(...parser.push(text.slice(last, cut)));
    last = cut;
  }
  events.push(...parser.push(text.slice(last)));
  return events;
}

// Data lines without CR/LF (they are line ends); may be empty, may contain ':' and spaces.
const dataLine = fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, "_"));
const eventArb = fc.record({
  event: fc.constantFrom("message", "error", "ping"),
  data: fc.array(dataLine, { minLength: 1, maxLength: 3 }).map((lines) => lines.join("\n")),
  id: fc.constant(null),
});

describe("SseParser", () => {
  it("recovers every event whatever the chunk boundaries and line endings", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(eventArb, fc.constantFrom("\n", "\r\n", "\r"), fc.boolean()), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.array(fc.nat(400), { maxLength: 12 }),
        (items, rawCuts) => {
          const text = items.map(([e, eol, c]) => serialize(e, eol, c)).join("");
          const cuts = rawCuts.map((c) => c % (text.length + 1));
          const expected = items.map(([e]) => e);
          expect(parseSplit(text, cuts)).toEqual(expected);
        },
      ),
      { seed: 4, numRuns: 500 },
    );
  });

  it("reads a read holding exactly one `data:` event (its one-slice path) as the line walk does", () => {
    // Whole pushes of `data: …\n\n` take the one-slice path; one character per push never can.
    const read = fc.oneof(
      dataLine.map((d) => `data: ${d}\n\n`),
      fc.tuple(fc.nat(99), dataLine).map(([id, d]) => `id: ${id}\ndata: ${d}\n\n`),
    );
    fc.assert(
      fc.property(fc.array(read, { minLength: 1, maxLength: 8 }), (reads) => {
        const whole = new SseParser();
        const byChar = new SseParser();
        const text = reads.join("");
        expect(reads.flatMap((r) => whole.push(r))).toEqual(
          [...text].flatMap((c) => byChar.push(c)),
        );
      }),
    );
  });

  it("joins multi-line data and ignores comments, retry and unknown fields", () => {
    const parser = new SseParser();
    const events = parser.push(": hi\nretry: 10\nfoo: bar\ndata: a\ndata:b\n\n");
    expect(events).toEqual([{ event: "message", data: "a\nb", id: null }]);
  });

  it("keeps a CR at a chunk end and an LF at the next chunk's start as one line end", () => {
    const parser = new SseParser();
    expect(parser.push("data: x\r")).toEqual([]);
    expect(parser.push("\n\r")).toEqual([{ event: "message", data: "x", id: null }]);
    expect(parser.push("\ndata: y\n\n")).toEqual([{ event: "message", data: "y", id: null }]);
  });

  it("scans each character of a huge event a bounded number of times, whatever the reads", () => {
    // A 4 MB event in 16 KiB reads: the old walk rescanned everything carried over on each
    // read (256 reads → about 1,000M characters searched). Counted, not timed: every
    // indexOf the parser makes is charged the characters it may search.
    const payload = `data: ${"x".repeat(4 << 20)}\n\n`;
    const reads: string[] = [];
    for (let i = 0; i < payload.length; i += 16 << 10) reads.push(payload.slice(i, i + (16 << 10)));
    const native = String.prototype.indexOf;
    let searched = 0;
    String.prototype.indexOf = function (this: string, needle: string, from?: number) {
      const found = native.call(this, needle, from);
      searched += (found === -1 ? this.length : found + 1) - Math.max(0, from ?? 0);
      return found;
    };
    let events: SseEvent[];
    try {
      const parser = new SseParser();
      events = reads.flatMap((r) => parser.push(r));
    } finally {
      String.prototype.indexOf = native;
    }
    expect(events).toHaveLength(1);
    expect(events[0]?.data.length).toBe(4 << 20);
    expect(searched).toBeLessThan(4 * payload.length);
  });

  it("drops an event still open when the input ends", () => {
    const parser = new SseParser();
    expect(parser.push('data: {"choi')).toEqual([]);
    expect(parser.hasPartialEvent).toBe(true);
  });
});

describe("parseStreamPayload", () => {
  it("recognises [DONE], text, role-only chunks, usage and mid-stream errors", () => {
    expect(parseStreamPayload("chat", "[DONE]")).toEqual({ kind: "done" });
    const role = parseStreamPayload("chat", '{"choices":[{"delta":{"role":"assistant"}}]}');
    expect(role).toMatchObject({ kind: "chunk", text: "" });
    const text = parseStreamPayload(
      "completions",
      '{"choices":[{"text":" hi","finish_reason":null}]}',
    );
    expect(text).toMatchObject({ kind: "chunk", text: " hi", finishReason: null });
    const usage = parseStreamPayload(
      "chat",
      '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}',
    );
    expect(usage).toMatchObject({ kind: "chunk", usage: { promptTokens: 3, completionTokens: 5 } });
    expect(parseStreamPayload("chat", '{"error":{"message":"boom","code":400}}')).toEqual({
      kind: "error",
      status: 400,
      message: "boom",
    });
    expect(parseStreamPayload("chat", "{not json")).toMatchObject({ kind: "bad" });
  });
});

describe("the cheap path for text chunks", () => {
  // Chunks as vLLM writes them (pydantic's compact JSON), with adversarial text.
  const text = fc.oneof(
    fc.string(),
    fc.constantFrom('"content":"x', '\\"content\\":\\"', "}", '"usage":{', "error", '"error"'),
  );
  const chunk = fc.record({
    api: fc.constantFrom("chat" as const, "completions" as const),
    text,
    reasoning: fc.option(fc.string(), { nil: undefined }),
    finish: fc.option(fc.constantFrom("stop", "length"), { nil: null }),
    usage: fc.option(fc.record({ prompt_tokens: fc.nat(), completion_tokens: fc.nat() }), {
      nil: undefined,
    }),
  });
  type Chunk = typeof chunk extends fc.Arbitrary<infer T> ? T : never;
  const payload = (c: Chunk) => {
    const choice =
      c.api === "chat"
        ? {
            index: 0,
            delta: {
              ...(c.reasoning !== undefined ? { reasoning_content: c.reasoning } : {}),
              content: c.text,
            },
            logprobs: null,
            finish_reason: c.finish,
          }
        : { index: 0, text: c.text, logprobs: null, finish_reason: c.finish };
    return JSON.stringify({
      id: "cmpl-1",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [choice],
      ...(c.usage ? { usage: c.usage } : {}),
    });
  };

  it("takes it only when the full parse would say: text, no finish reason, no usage (property)", () => {
    let taken = 0;
    let plainCount = 0;
    fc.assert(
      fc.property(chunk, (c) => {
        const data = payload(c);
        const full = parseStreamPayload(c.api, data);
        const plain =
          full.kind === "chunk" &&
          full.text !== "" &&
          full.finishReason === null &&
          full.usage === null;
        // It may decline (then the full parse runs), never accept what the parse would not.
        if (isPlainTextChunk(c.api, data)) {
          expect(plain).toBe(true);
          taken++;
        }
        if (plain) plainCount++;
      }),
      { numRuns: 2000 },
    );
    expect(taken).toBeGreaterThan(0);
    expect(plainCount).toBeGreaterThanOrEqual(taken);
  });

  it("is the path vLLM's ordinary text chunks take (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("chat" as const, "completions" as const),
        fc.string({ minLength: 1 }).filter((t) => t !== "error"),
        (api, text) => {
          const data = payload({ api, text, reasoning: undefined, finish: null, usage: undefined });
          expect(isPlainTextChunk(api, data)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("leaves other spellings, cut-off objects and errors to the full parse", () => {
    expect(isPlainTextChunk("chat", '{"choices": [{"delta": {"content": "hi"}}]}')).toBe(false);
    expect(isPlainTextChunk("chat", '{"choices":[{"delta":{"content":"hi"')).toBe(false);
    expect(isPlainTextChunk("chat", '{"error":{"message":"boom","content":"x"}}')).toBe(false);
    expect(
      isPlainTextChunk("chat", '{"choices":[{"delta":{"role":"assistant","content":""}}]}'),
    ).toBe(false);
  });
});
