import { describe, expect, it } from "vitest";
import { type RequestRecord, RequestRecordSchema } from "../../formats/request-record.ts";
import { quantileSorted } from "../../stats/quantile.ts";
import {
  inWindow,
  sentInWindow,
  WindowCounter,
  windowFigures,
} from "../../stats/request-window.ts";
import { syntheticRequest } from "../aggregate/synthetic-campaign.ts";

/**
 * A record of the engines' shape (checked against the schema), 5 ms gaps;
 * sent `e2e_ms` (100 ms) before its end unless `start_us` says otherwise.
 */
function record(over: Partial<RequestRecord>): RequestRecord {
  const e2e = over.e2e_ms ?? 100;
  const end = over.end_us ?? 1_500_000;
  return RequestRecordSchema.parse(
    syntheticRequest({
      start_us: end - Math.round(e2e * 1000),
      end_us: end,
      ttft_ms: 10,
      e2e_ms: 100,
      itl_mean_ms: 5,
      itl_gaps_ms: [5, 5],
      prompt_tokens: 7,
      output_tokens: 10,
      tpot_ms: 5,
      ...over,
    }),
  );
}

// Window [1 s, 3 s).
const W = { startUs: 1_000_000, endUs: 3_000_000 };

describe("the window rule", () => {
  it("takes requests that ended in [start, end): warm-up sent ones count, the end is out", () => {
    expect(inWindow(record({ end_us: 999_999 }), W)).toBe(false);
    expect(inWindow(record({ end_us: 1_000_000, warmup: true }), W)).toBe(true);
    expect(inWindow(record({ end_us: 2_999_999 }), W)).toBe(true);
    expect(inWindow(record({ end_us: 3_000_000 }), W)).toBe(false);
    // No recorded window (a crashed run): everything not sent in warm-up.
    expect(inWindow(record({ warmup: true }), null)).toBe(false);
    expect(inWindow(record({ end_us: 9e9 }), null)).toBe(true);
  });

  it("latency takes requests sent in [start, end), however late they end", () => {
    expect(sentInWindow(record({ start_us: 999_999, end_us: 1_200_000 }), W)).toBe(false);
    expect(sentInWindow(record({ start_us: 1_000_000, end_us: 9e9 }), W)).toBe(true);
    expect(sentInWindow(record({ start_us: 2_999_999, end_us: 9e9 }), W)).toBe(true);
    expect(sentInWindow(record({ start_us: 3_000_000, end_us: 9e9 }), W)).toBe(false);
    expect(sentInWindow(record({ warmup: true }), null)).toBe(false);
    expect(sentInWindow(record({}), null)).toBe(true);
  });

  it("counts, errors and throughput take warm-up sent requests; latency takes the window's arrivals", () => {
    const f = windowFigures(
      [
        record({ warmup: true, end_us: 500_000, ttft_ms: 999 }), // before the window
        record({ warmup: true, start_us: 900_000, end_us: 1_200_000, ttft_ms: 999 }), // sent in warm-up, ends inside
        record({ end_us: 2_000_000, ttft_ms: 10 }),
        record({ end_us: 2_999_999, ttft_ms: 30 }),
        record({ end_us: 3_000_000, ttft_ms: 20 }), // ends at the window's end: no completion
        record({ end_us: 4_500_000, e2e_ms: 2000, ttft_ms: 40 }), // sent inside, ends after
        record({ ok: false, error_kind: "http_5xx", end_us: 2_000_000, warmup: true }),
        record({ ok: false, error_kind: "cancelled", end_us: 2_500_000, ttft_ms: null }),
        record({ ok: false, error_kind: "cancelled", end_us: 3_000_100, start_us: 3_000_000 }),
      ],
      W,
    );
    expect(f.windowS).toBe(2);
    expect(f.requestsOk).toBe(3);
    expect(f.reqPerS).toBe(1.5);
    expect(f.outputTokPerS).toBe(15);
    expect(f.totalTokPerS).toBe(25.5);
    // Cancelled is counted by kind, never as a failure.
    expect(f.requestsFailed).toBe(1);
    expect(f.requestsCancelled).toBe(1);
    expect(f.errors).toEqual({ http_5xx: 1, cancelled: 1 });
    expect(f.errorRate).toBe(0.25);
    // TTFT: 10, 30, 20 and 40 (sent in the window), none from warm-up or after the window;
    // the cancelled one sent inside had no first token: censored.
    expect(f.latency.ttftMs).toMatchObject({ count: 4, requests: 4, censored: 1 });
    expect(f.latency.e2eMs).toMatchObject({ count: 4, censored: 1 });
    // Four requests are too few for any statistic: null, and the flag says why.
    expect(f.latency.ttftMs).toMatchObject({ mean: null, p50: null, p99: null });
    expect(f.latency.ttftMs.flags).toEqual(["p50/p90/p95/p99/mean null: 4 requests < 20"]);
  });

  it("the live counter counts by the same rule as the full figures", () => {
    const records = [
      record({ end_us: 900_000 }),
      record({ end_us: 1_500_000, warmup: true }),
      record({ ok: false, error_kind: "cancelled", end_us: 2_000_000 }),
      record({ ok: false, error_kind: "timeout", end_us: 2_000_000 }),
    ];
    const counter = new WindowCounter(W);
    for (const r of records) counter.add(r);
    const f = windowFigures(records, W);
    expect(counter.windowCounts).toMatchObject({
      ok: f.requestsOk,
      failed: f.requestsFailed,
      cancelled: f.requestsCancelled,
    });
  });
});

describe("ITL", () => {
  it("pools every gap (one stall per request shows in p99); the per-request mean hides it", () => {
    // 100 requests × 19 gaps of 5 ms, one gap of 105 ms each (5.3% of all gaps).
    const gaps = [...Array(18).fill(5), 105];
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    // 100 requests: the per-request mean's p99 needs 100 values.
    const records = Array.from({ length: 100 }, (_, i) =>
      record({ end_us: 1_500_000 + i, itl_gaps_ms: gaps, itl_mean_ms: mean }),
    );
    const f = windowFigures(records, W);
    const pooled = records.flatMap((r) => r.itl_gaps_ms!).sort((a, b) => a - b);
    expect(f.latency.itlMs.count).toBe(1900);
    expect(f.latency.itlMs.requests).toBe(100);
    expect(f.latency.itlMs.p99).toBe(quantileSorted(pooled, 0.99));
    expect(f.latency.itlMs.p99).toBe(105);
    expect(f.latency.itlMs.p50).toBe(5);
    expect(f.latency.itlMs.mean).toBeCloseTo(mean, 9);
    expect(f.latency.itlRequestMeanMs.p99).toBeCloseTo(mean, 9);
    expect(f.latency.itlRequestMeanMs.p99!).toBeLessThan(11);
  });

  it("records without gaps (version 1, plain k6) give no pooled ITL, not zeros", () => {
    const v1 = record({ end_us: 1_500_000 });
    delete (v1 as Partial<RequestRecord>).itl_gaps_ms;
    const f = windowFigures([v1, record({ end_us: 1_600_000, itl_gaps_ms: null })], W);
    expect(f.latency.itlMs).toEqual({
      count: 0,
      requests: 0,
      censored: 0,
      flags: [],
      mean: null,
      p50: null,
      p90: null,
      p95: null,
      p99: null,
    });
    expect(f.latency.itlRequestMeanMs.count).toBe(2);
  });
});

describe("goodput", () => {
  it("is null, not 0, when the engine measured no TTFT (plain k6)", () => {
    const k6 = { engine: "k6" as const, ttft_ms: null, tpot_ms: null, itl_gaps_ms: null };
    const f = windowFigures(
      [record({ ...k6, end_us: 1_500_000 }), record({ ...k6, end_us: 1_600_000 })],
      W,
    );
    expect(f.requestsOk).toBe(2);
    expect(f.goodputReqPerS).toBeNull();
    expect(f.goodputFraction).toBeNull();
  });

  it("counts ok requests meeting both SLOs over every finished request", () => {
    const f = windowFigures(
      [
        record({ end_us: 1_100_000, ttft_ms: 100, tpot_ms: 10 }),
        record({ end_us: 1_200_000, ttft_ms: 3000, tpot_ms: 10 }), // misses TTFT
        record({ end_us: 1_300_000, ttft_ms: 100, tpot_ms: 500 }), // misses TPOT
        record({ end_us: 1_400_000, ttft_ms: 100, tpot_ms: null }), // one token: TTFT only
        record({ end_us: 1_500_000, ok: false, error_kind: "timeout" }),
      ],
      W,
      { ttftMs: 2000, tpotMs: 100 },
    );
    expect(f.goodputReqPerS).toBe(1);
    expect(f.goodputFraction).toBe(0.4);
  });
});
