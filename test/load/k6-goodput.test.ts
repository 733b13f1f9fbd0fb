/**
 * Plain k6 cannot see TTFT, so its goodput is unmeasured: null, not 0 (issue
 * 11 item 8). Records come from chat.ts's own record path fed with real
 * buffered responses of the planted server, as k6's `http.post` returns them.
 */
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestStats } from "../../analysis/aggregate/request-stats.ts";
import type { RequestRecord } from "../../formats/request-record.ts";
import { recordFromK6Http } from "../../load/k6/http-record.ts";
import { windowFigures } from "../../stats/request-window.ts";
import { type PlantedServer, startPlantedServer } from "./planted-server.ts";

let server: PlantedServer;
beforeAll(async () => {
  server = await startPlantedServer({ plan: () => ({ ttftMs: 2, itlMs: 1, tokens: 3 }) });
});
afterAll(() => server.close());

async function k6Record(i: number): Promise<RequestRecord> {
  const startMs = Date.now();
  const res = await request(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "planted-model",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  const body = await res.body.text();
  return recordFromK6Http(
    {
      experimentId: "e",
      promptSet: "p",
      requestId: `u0-${i}`,
      promptTokens: null,
      warmup: false,
      api: "chat",
      stream: true,
      startMs,
    },
    {
      status: res.statusCode,
      error_code: 0,
      headers: { "Content-Type": String(res.headers["content-type"]) },
      body,
      timings: { blocked: 0, connecting: 0, tls_handshaking: 0, duration: Date.now() - startMs },
    },
  );
}

describe("k6 (plain) goodput", () => {
  it("is null when no request has a TTFT, in the summary and in summary.parquet's columns", async () => {
    const records = [await k6Record(0), await k6Record(1), await k6Record(2)];
    for (const r of records) {
      expect(r).toMatchObject({ engine: "k6", ok: true, ttft_ms: null, itl_gaps_ms: null });
      expect(r.output_tokens).toBe(3);
    }
    const window = { startUs: records[0]!.start_us, endUs: records[2]!.end_us + 1 };
    const f = windowFigures(records, window);
    expect(f.requestsOk).toBe(3);
    expect(f.reqPerS).toBeGreaterThan(0);
    expect(f.goodputReqPerS).toBeNull();
    expect(f.goodputFraction).toBeNull();
    expect(f.latency.itlMs.p99).toBeNull();
    const columns = new RequestStats({ ttftMs: 2000, tpotMs: 100 });
    for (const r of records) columns.add(r, window);
    expect(columns.finish(1)).toMatchObject({
      requests_ok: 3,
      goodput_requests_per_s: null,
      goodput_fraction: null,
    });
  });
});
