import { describe, expect, it } from "vitest";
import { type RequestRecord, RequestRecordSchema } from "../../formats/request-record.ts";
import { quantileSorted } from "../../stats/quantile.ts";
import { windowFigures } from "../../stats/request-window.ts";
import { MIN_REQUESTS, minValuesFor } from "../../stats/sample-rule.ts";
import { syntheticRequest } from "../aggregate/synthetic-campaign.ts";

const W = { startUs: 1_000_000, endUs: 3_000_000 };

/** An ok request sent at 1.5 s with this E2E (and TTFT a tenth of it). */
function ok(e2eMs: number): RequestRecord {
  return RequestRecordSchema.parse(
    syntheticRequest({
      start_us: 1_500_000,
      end_us: 1_500_000 + e2eMs * 1000,
      e2e_ms: e2eMs,
      ttft_ms: e2eMs / 10,
    }),
  );
}

/** Sent at 1.5 s and cut after `elapsedMs`, with or without its first token. */
function cut(elapsedMs: number, ttftMs: number | null = null): RequestRecord {
  return RequestRecordSchema.parse(
    syntheticRequest({
      start_us: 1_500_000,
      end_us: 1_500_000 + elapsedMs * 1000,
      e2e_ms: elapsedMs,
      ttft_ms: ttftMs,
      ok: false,
      error_kind: "cancelled",
      tpot_ms: null,
      output_tokens: 3,
    }),
  );
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("the minimum sample", () => {
  it("is 20 requests, and 1/(1 − q) values for the q-quantile: p99 from 100", () => {
    expect(MIN_REQUESTS).toBe(20);
    expect([0.5, 0.9, 0.95, 0.99].map(minValuesFor)).toEqual([20, 20, 20, 100]);
  });

  it("prints nothing from 19 requests, p50–p95 and the mean from 20, p99 from 100", () => {
    const at = (n: number) => windowFigures(range(n).map(ok), W).latency.e2eMs;
    expect(at(19)).toMatchObject({ count: 19, mean: null, p50: null, p99: null });
    expect(at(19).flags).toEqual(["p50/p90/p95/p99/mean null: 19 requests < 20"]);
    expect(at(20)).toMatchObject({ count: 20, mean: 10.5, p50: 10.5, p99: null });
    expect(at(20).p95).toBeCloseTo(quantileSorted(range(20), 0.95), 9);
    expect(at(20).flags).toEqual(["p99 null: 20 values < 100"]);
    expect(at(99).p99).toBeNull();
    expect(at(100).p99).toBeCloseTo(quantileSorted(range(100), 0.99), 9);
    expect(at(100).flags).toEqual([]);
  });

  it("counts requests, not pooled ITL gaps, towards the 20", () => {
    const records = range(5).map(() =>
      RequestRecordSchema.parse(
        syntheticRequest({ start_us: 1_500_000, end_us: 1_600_000, itl_gaps_ms: range(40) }),
      ),
    );
    const itl = windowFigures(records, W).latency.itlMs;
    expect(itl).toMatchObject({ count: 200, requests: 5, p50: null });
  });
});

describe("requests cut before their end (censored)", () => {
  // Planted truth: 100 requests of 1…100 ms, and 5 more of 1000 ms cut at `bound` ms.
  const truth = [...range(100), 1000, 1000, 1000, 1000, 1000].sort((a, b) => a - b);

  it("leaves a quantile exact when every cut request ran longer than the ranks it reads", () => {
    const f = windowFigures([...range(100).map(ok), ...range(5).map(() => cut(500))], W);
    const e2e = f.latency.e2eMs;
    expect(e2e).toMatchObject({ count: 100, requests: 100, censored: 5 });
    // The median and p90 read ranks below the cut requests: the same as if they had ended.
    expect(e2e.p50).toBeCloseTo(quantileSorted(truth, 0.5), 9);
    expect(e2e.p90).toBeCloseTo(quantileSorted(truth, 0.9), 9);
    expect(e2e.p95).toBeCloseTo(quantileSorted(truth, 0.95), 9);
    // p99 reads a rank among the cut ones, and the mean would be a lower bound.
    expect(e2e.p99).toBeNull();
    expect(e2e.mean).toBeNull();
    expect(e2e.flags).toEqual([
      "p99 null: 5 requests cut before their end could lie below it",
      "mean null: 5 requests cut before their end",
    ]);
  });

  it("nulls a quantile a cut request could lie below (it was cut early)", () => {
    const f = windowFigures([...range(100).map(ok), ...range(5).map(() => cut(30))], W);
    expect(f.latency.e2eMs.p50).toBeNull();
    expect(f.latency.e2eMs.p90).toBeNull();
    expect(f.latency.e2eMs.flags[0]).toMatch(/^p50\/p90\/p95\/p99 null: 5 requests cut/);
  });

  it("takes a cut request's TTFT as a value when its first token came", () => {
    const f = windowFigures([...range(100).map(ok), ...range(5).map(() => cut(30, 2))], W);
    expect(f.latency.ttftMs).toMatchObject({ count: 105, censored: 0 });
    expect(f.latency.ttftMs.p50).toBeCloseTo(
      quantileSorted(
        [...range(100).map((x) => x / 10), 2, 2, 2, 2, 2].sort((a, b) => a - b),
        0.5,
      ),
      9,
    );
    // Its TPOT has no bound: any cut request nulls TPOT's statistics.
    expect(f.latency.tpotMs).toMatchObject({ censored: 5, p50: null });
  });
});
