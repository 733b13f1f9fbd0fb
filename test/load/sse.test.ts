import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStreamPayload } from "../../load/workload/openai-stream.ts";
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
