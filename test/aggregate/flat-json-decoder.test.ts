import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FlatJsonDecoder } from "../../analysis/aggregate/flat-json-decoder.ts";
import { flatRecordRules } from "../../analysis/aggregate/flat-record-plan.ts";
import {
  ErrorKind,
  type RequestRecord,
  RequestRecordSchema,
} from "../../formats/request-record.ts";
import { syntheticRequest } from "./synthetic-campaign.ts";

const rules = flatRecordRules(RequestRecordSchema);

function decoderOrThrow(): FlatJsonDecoder {
  if (!rules) throw new Error("RequestRecordSchema is outside the fast decoder's rules");
  return new FlatJsonDecoder(rules);
}

/** Decodes `text` as one terminated line inside a larger buffer (bytes on both sides). */
function decodeLine(decoder: FlatJsonDecoder, text: string): boolean {
  const buf = Buffer.from(`{"x":1}\n${text}\n{"y":2}\n`, "utf8");
  const start = buf.indexOf(10) + 1;
  return decoder.decode(buf, start, buf.indexOf(10, start));
}

/** What JSON.parse + zod make of `text`: the record, or null when zod or JSON.parse rejects it. */
function reference(text: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = RequestRecordSchema.safeParse(value);
  return parsed.success ? (parsed.data as Record<string, unknown>) : null;
}

/** The decoder's verdict must never differ from the reference when it accepts. */
function checkAgainstReference(decoder: FlatJsonDecoder, text: string): boolean {
  const accepted = decodeLine(decoder, text);
  const expected = reference(text);
  if (accepted) {
    expect(expected).not.toBeNull();
    for (const [i, rule] of decoder.rules.entries()) {
      // Object.is tells -0 from 0, as the Parquet bytes would.
      expect(Object.is(decoder.value(i), expected![rule.name]), rule.name).toBe(true);
    }
  }
  return accepted;
}

const nullableMs = fc.option(
  fc.oneof(
    fc.double({ min: 0, max: 1e7, noNaN: true }),
    fc.integer({ min: 0, max: 100_000 }),
    fc.constantFrom(-0, 0.1, 1e-7, 5e-324, 123.45678901234567),
  ),
);
const anyString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.constantFrom("e001", 'quote"d', "back\\slash", "tab\there", "é", "\u2028"),
);

/** Mostly valid records, with the odd value zod rejects. */
const records = fc.record({
  experiment_id: anyString,
  engine: fc.constantFrom("node", "k6", "k6-sse", "k7"),
  request_id: anyString,
  prompt_set: anyString,
  start_us: fc.oneof(fc.maxSafeInteger(), fc.constantFrom(1.5, 2 ** 53, -1, 1e21)),
  end_us: fc.integer({ min: 1_700_000_000_000_000, max: 1_900_000_000_000_000 }),
  ttft_ms: nullableMs,
  e2e_ms: fc.oneof(nullableMs, fc.constantFrom(-1, -0.5)),
  itl_mean_ms: nullableMs,
  itl_p50_ms: nullableMs,
  itl_p90_ms: nullableMs,
  itl_p99_ms: nullableMs,
  itl_max_ms: nullableMs,
  tpot_ms: nullableMs,
  prompt_tokens: fc.option(fc.integer({ min: -2, max: 100_000 })),
  output_tokens: fc.option(fc.oneof(fc.nat(), fc.constant(2.5))),
  tokens_from_usage: fc.oneof(fc.boolean(), fc.constant(null)),
  http_status: fc.option(fc.integer({ min: 100, max: 599 })),
  ok: fc.boolean(),
  error_kind: fc.option(fc.constantFrom(...ErrorKind.options, "oops")),
  error_message: fc.option(anyString),
  finish_reason: fc.option(anyString),
  warmup: fc.boolean(),
});

describe("flatRecordRules", () => {
  it("covers every field of the request record schema, with its checks", () => {
    expect(rules).not.toBeNull();
    expect(rules!.map((r) => r.name)).toEqual(Object.keys(RequestRecordSchema.shape));
    const byName = Object.fromEntries(rules!.map((r) => [r.name, r]));
    expect(byName.start_us).toMatchObject({ kind: "number", safeInt: true, nullable: false });
    expect(byName.prompt_tokens).toMatchObject({ safeInt: true, min: 0, minInclusive: true });
    expect(byName.ttft_ms).toMatchObject({ kind: "number", nullable: true, safeInt: false });
    expect([...byName.error_kind!.values!]).toEqual(ErrorKind.options);
  });
});

describe("FlatJsonDecoder", () => {
  it("accepts what JSON.parse + zod accept, with identical values (property)", () => {
    const decoder = decoderOrThrow();
    fc.assert(
      fc.property(records, (record) => {
        checkAgainstReference(decoder, JSON.stringify(record));
      }),
      { numRuns: 2000 },
    );
  });

  it("takes the fast path for plain records written by the load engines", () => {
    const decoder = decoderOrThrow();
    fc.assert(
      fc.property(records, (raw) => {
        // Engines write ids and names without escapes; odd strings are the other tests' job.
        const record = {
          ...raw,
          experiment_id: "e1",
          request_id: "r-1",
          prompt_set: "short",
          error_message: raw.error_message === null ? null : "503 Service Unavailable",
          finish_reason: raw.finish_reason === null ? null : "length",
        };
        const text = JSON.stringify(record);
        if (reference(text) !== null) expect(checkAgainstReference(decoder, text)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("reads every double exactly as JSON.parse does (property)", () => {
    const decoder = decoderOrThrow();
    const base = syntheticRequest();
    fc.assert(
      fc.property(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = JSON.stringify({ ...base, ttft_ms: x });
        expect(checkAgainstReference(decoder, text)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("survives mutated lines: accepts only what the reference accepts, with its values (property)", () => {
    const decoder = decoderOrThrow();
    const text = JSON.stringify(syntheticRequest({ ttft_ms: 12.5, error_message: "x" }));
    fc.assert(
      fc.property(
        fc.nat(text.length - 1),
        fc.nat(text.length),
        fc.string({ unit: "binary-ascii", maxLength: 4 }),
        (from, length, insert) => {
          checkAgainstReference(decoder, text.slice(0, from) + insert + text.slice(from + length));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("declines what it cannot vouch for, leaving the zod path to judge and report it", () => {
    const decoder = decoderOrThrow();
    const good = syntheticRequest();
    const json = (r: object) => JSON.stringify(r);
    const declined: [string, string][] = [
      ["escaped string", json(good).replace('"node"', '"nod\\u0065"')],
      ["leading zero", json(good).replace('"http_status":200', '"http_status":0200')],
      ["bare decimal point", json(good).replace('"ttft_ms":100', '"ttft_ms":100.')],
      ["trailing comma", json(good).replace(/}$/, ",}")],
      ["duplicate key", json(good).replace(/}$/, ',"ok":true}')],
      ["unknown key", json({ ...good, extra: 1 })],
      ["missing key", json({ ...good, warmup: undefined })],
      ["nested value", json({ ...good, finish_reason: { a: 1 } })],
      ["enum value outside the schema", json({ ...good, engine: "k7" })],
      ["non-integer where int", json({ ...good, start_us: 1.5 })],
      ["below the minimum", json({ ...good, ttft_ms: -1 })],
      ["null where not nullable", json({ ...good, ok: null })],
      ["trailing garbage", `${json(good)} x`],
      ["two objects", `${json(good)}${json(good)}`],
    ];
    for (const [what, text] of declined) {
      expect(decodeLine(decoder, text), what).toBe(false);
    }
    // A last line without its newline has no sentinel: always the zod path.
    const bytes = Buffer.from(json(good));
    expect(decoder.decode(bytes, 0, bytes.length)).toBe(false);
    // Whitespace JSON allows is fine.
    expect(
      decodeLine(decoder, ` \t${json(good).replaceAll(",", " ,\t").replaceAll(":", ": ")}\r`),
    ).toBe(true);
    const reordered = Object.fromEntries(Object.entries(good).reverse()) as RequestRecord;
    expect(decodeLine(decoder, json(reordered))).toBe(true);
    expect(decoder.value(decoder.fieldIndex("start_us"))).toBe(good.start_us);
  });

  it("never reuses a string from before a zod-path line", () => {
    const decoder = decoderOrThrow();
    expect(decodeLine(decoder, JSON.stringify(syntheticRequest({ prompt_set: "aa" })))).toBe(true);
    decoder.load(syntheticRequest({ prompt_set: "zz" }));
    expect(decodeLine(decoder, JSON.stringify(syntheticRequest({ prompt_set: "aa" })))).toBe(true);
    expect(decoder.value(decoder.fieldIndex("prompt_set"))).toBe("aa");
  });
});
