import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError } from "../../common/errors.ts";
import type { RequestRecord } from "../../formats/request-record.ts";
import { summarizeRecords, summarizeRequestsFile } from "../../load/summary.ts";
import { tempDir } from "./helpers.ts";

function record(over: Partial<RequestRecord>): RequestRecord {
  return {
    experiment_id: "e",
    engine: "node",
    request_id: "r",
    prompt_set: "p",
    start_us: 0,
    end_us: 0,
    ttft_ms: 10,
    e2e_ms: 100,
    itl_mean_ms: 5,
    itl_p50_ms: 5,
    itl_p90_ms: 5,
    itl_p99_ms: 5,
    itl_max_ms: 5,
    tpot_ms: 5,
    prompt_tokens: 7,
    output_tokens: 10,
    tokens_from_usage: true,
    http_status: 200,
    ok: true,
    error_kind: null,
    error_message: null,
    finish_reason: "length",
    warmup: false,
    ...over,
  };
}

// Window [1 s, 3 s).
const W0 = 1_000_000;
const W1 = 3_000_000;

describe("summary", () => {
  it("throughput counts completions inside the window; latency leaves warm-up out", () => {
    const records = [
      record({ warmup: true, end_us: 500_000, ttft_ms: 999 }), // before the window
      record({ warmup: true, end_us: 1_200_000, ttft_ms: 999 }), // sent in warm-up, ends inside
      record({ end_us: 2_000_000, ttft_ms: 10 }),
      record({ end_us: 2_999_999, ttft_ms: 30 }),
      record({ end_us: 3_000_000, ttft_ms: 20 }), // ends exactly at the window's end: outside
      record({ ok: false, error_kind: "http_5xx", end_us: 2_000_000 }),
      record({ ok: false, error_kind: "cancelled", end_us: 3_000_000 }),
    ];
    const s = summarizeRecords(records, W0, W1);
    expect(s.windowS).toBe(2);
    expect(s.reqPerS).toBe(1.5);
    expect(s.outputTokPerS).toBe(15);
    expect(s.ttftP50Ms).toBe(20);
    expect(s.requests).toBe(5);
    expect(s.succeeded).toBe(3);
    expect(s.errors).toEqual({ http_5xx: 1, cancelled: 1 });
  });

  it("reads a records file line by line and names a bad line", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const good = join(dir, "ok.ndjson");
      await writeFile(good, `${JSON.stringify(record({ end_us: 2_000_000 }))}\n\n`);
      expect((await summarizeRequestsFile(good, W0, W1)).reqPerS).toBe(0.5);
      const bad = join(dir, "bad.ndjson");
      await writeFile(
        bad,
        `${JSON.stringify(record({}))}\n${JSON.stringify({ ...record({}), ok: "yes" })}\n`,
      );
      const error = await summarizeRequestsFile(bad, W0, W1).catch((e) => e);
      expect(error).toBeInstanceOf(DataError);
      expect(error.location).toMatchObject({ file: bad, line: 2, field: "ok" });
    } finally {
      await cleanup();
    }
  });
});
