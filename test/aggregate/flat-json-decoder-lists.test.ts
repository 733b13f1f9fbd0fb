/** The fast decoder on `itl_gaps_ms` (schema 2): a list of numbers, nullable and optional. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FlatJsonDecoder } from "../../analysis/aggregate/flat-json-decoder.ts";
import { flatRecordRules } from "../../analysis/aggregate/flat-record-plan.ts";
import { RequestRecordSchema } from "../../formats/request-record.ts";
import { syntheticRequest } from "./synthetic-campaign.ts";

const rules = flatRecordRules(RequestRecordSchema)!;
const GAPS = rules.findIndex((r) => r.name === "itl_gaps_ms");

/** The decoder's verdict on `text` (inside a larger buffer) and what JSON.parse + zod make of it. */
function bothWays(decoder: FlatJsonDecoder, text: string) {
  const buf = Buffer.from(`{"x":1}\n${text}\n`, "utf8");
  const start = buf.indexOf(10) + 1;
  const accepted = decoder.decode(buf, start, buf.indexOf(10, start));
  let expected: Record<string, unknown> | null = null;
  try {
    const parsed = RequestRecordSchema.safeParse(JSON.parse(text));
    if (parsed.success) expected = parsed.data as Record<string, unknown>;
  } catch {}
  return { accepted, expected };
}

const gapLists = fc.oneof(
  fc.array(fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.nat(1000)), {
    maxLength: 300,
  }),
  fc.array(fc.oneof(fc.constant(-1), fc.constant(-0), fc.constant(0.5)), { maxLength: 3 }),
  fc.constantFrom(null, "x", [null], [[1]], { a: 1 }),
);

describe("FlatJsonDecoder, lists and optional keys", () => {
  it("the rule for itl_gaps_ms is a nullable, optional list of numbers ≥ 0", () => {
    expect(rules[GAPS]).toMatchObject({
      kind: "numbers",
      nullable: true,
      optional: true,
      min: 0,
      minInclusive: true,
    });
  });

  it("accepts what JSON.parse + zod accept, with the same list (property)", () => {
    const decoder = new FlatJsonDecoder(rules);
    const base = syntheticRequest();
    fc.assert(
      fc.property(gapLists, fc.boolean(), (gaps, spaced) => {
        const text = JSON.stringify({ ...base, itl_gaps_ms: gaps }, null, spaced ? 1 : undefined)
          .split("\n")
          .join(" ");
        const { accepted, expected } = bothWays(decoder, text);
        // Plain number lists are what the engines write: the fast path must take them.
        if (expected !== null) expect(accepted).toBe(true);
        if (accepted) {
          expect(expected).not.toBeNull();
          expect(decoder.value(GAPS)).toEqual(expected!.itl_gaps_ms);
          expect(decoder.num(decoder.fieldIndex("end_us"))).toBe(base.end_us);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("reads a version-1 line (no itl_gaps_ms) as absent, and reuses its slot safely", () => {
    const decoder = new FlatJsonDecoder(rules);
    expect(
      bothWays(decoder, JSON.stringify(syntheticRequest({ itl_gaps_ms: [1, 2, 3] }))).accepted,
    ).toBe(true);
    expect(decoder.list(GAPS)).toEqual(Float64Array.from([1, 2, 3]));
    const v1 = JSON.stringify(syntheticRequest());
    expect(v1).not.toContain("itl_gaps_ms");
    expect(bothWays(decoder, v1).accepted).toBe(true);
    expect(decoder.list(GAPS)).toBeNull();
    expect(decoder.value(GAPS)).toBeUndefined();
    // A required key missing is still a rejection.
    const { ok: _ok, ...noOk } = syntheticRequest();
    expect(bothWays(decoder, JSON.stringify(noOk)).accepted).toBe(false);
  });
});
