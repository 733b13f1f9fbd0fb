import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../formats/request-record.ts";
import { runNodeLoad } from "../../load/node/run.ts";
import { quantileSorted } from "../../stats/quantile.ts";
import { ONE_PROMPT, readRecords, runOptions, tempDir } from "./helpers.ts";
import { type Fault, type PlantedServer, startPlantedServer } from "./planted-server.ts";

let dir: string;
let cleanup: () => Promise<void>;
let server: PlantedServer | null = null;
let n = 0;
const out = () => join(dir, `requests-${n++}.ndjson`);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());
afterEach(async () => {
  await server?.close();
  server = null;
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe("timing against planted delays", () => {
  it("measures TTFT, ITL and E2E within 2 ms of the planted values at low load", async () => {
    const ttft = 40;
    const itl = 15;
    const tokens = 6;
    const e2e = ttft + itl * (tokens - 1);
    server = await startPlantedServer({
      plan: () => ({ ttftMs: ttft, itlMs: itl, tokens }),
      precise: true,
    });
    const file = out();
    // The warm-up keeps JIT compilation and the first connection out of the figures.
    await runNodeLoad(
      runOptions(server.url, file, { warmupMs: 300, durationMs: 2000, maxTokens: tokens }),
    );
    const records = (await readRecords(file)).filter((r) => r.ok && !r.warmup);
    expect(records.length).toBeGreaterThanOrEqual(8);
    const stats = new Map(server.stats.map((s) => [s.requestId, s]));
    const ttftErr: number[] = [];
    const itlErr: number[] = [];
    const e2eErr: number[] = [];
    for (const r of records) {
      // Nothing is seen before it was planted (the server counts from the body's arrival).
      expect(r.ttft_ms).toBeGreaterThanOrEqual(ttft);
      expect(r.e2e_ms).toBeGreaterThanOrEqual(e2e);
      expect(r).toMatchObject({
        output_tokens: tokens,
        tokens_from_usage: true,
        finish_reason: "length",
      });
      expect(Math.abs(r.end_us - r.start_us - r.e2e_ms! * 1000)).toBeLessThanOrEqual(1);
      // The planted truth as it went on the wire: the server stamps every write
      // (same process, same clock), so a busy CI machine delaying the server's
      // timers does not count against the engine.
      const s = stats.get(r.request_id)!;
      const writes = s.textWritesUs.map((us) => (us - r.start_us) / 1000);
      const gaps = writes.slice(1).map((w, i) => w - writes[i]!);
      ttftErr.push(r.ttft_ms! - writes[0]!);
      itlErr.push(
        Math.abs(
          r.itl_p50_ms! -
            quantileSorted(
              [...gaps].sort((a, b) => a - b),
              0.5,
            ),
        ),
      );
      e2eErr.push(r.e2e_ms! - (s.endUs! - r.start_us) / 1000);
    }
    // Medians over requests: one preempted request must not fail the test.
    expect(median(ttftErr)).toBeGreaterThanOrEqual(0);
    expect(median(ttftErr)).toBeLessThan(2);
    expect(median(itlErr)).toBeLessThan(2);
    expect(median(e2eErr)).toBeLessThan(2);
    // And against the nominal plan, which the precise server honours at low load.
    expect(median(records.map((r) => Math.abs(r.itl_mean_ms! - itl)))).toBeLessThan(2);
    expect(median(records.map((r) => Math.abs(r.tpot_ms! - itl)))).toBeLessThan(2);
  });

  it("measures the completions API the same way, and falls back to chunk counts without usage", async () => {
    server = await startPlantedServer({
      plan: () => ({ ttftMs: 20, itlMs: 10, tokens: 5, usage: false }),
      precise: true,
    });
    const file = out();
    await runNodeLoad(
      runOptions(server.url, file, {
        api: "completions",
        warmupMs: 200,
        durationMs: 600,
        maxTokens: 5, // the planted answer's length: more chunks than max_tokens is impossible
      }),
    );
    const records = (await readRecords(file)).filter((r) => r.ok && !r.warmup);
    expect(records.length).toBeGreaterThan(4);
    const stats = new Map(server.stats.map((s) => [s.requestId, s]));
    const lagsMs: number[] = [];
    for (const r of records) {
      expect(r.ttft_ms).toBeGreaterThanOrEqual(20);
      const [first] = stats.get(r.request_id)!.textWritesUs;
      lagsMs.push((r.start_us + r.ttft_ms! * 1000 - first!) / 1000);
      expect(r.output_tokens).toBe(5);
      expect(r.tokens_from_usage).toBe(false);
    }
    // TTFT ends at the first text chunk (the second one comes 10 ms later).
    expect(median(lagsMs)).toBeGreaterThanOrEqual(0);
    expect(median(lagsMs)).toBeLessThan(2);
    expect(server.bodies[0]).toMatchObject({ prompt: "Say hello.", stream: true, max_tokens: 5 });
  });

  it("records no TTFT for a buffered (stream: false) answer but E2E and usage tokens", async () => {
    server = await startPlantedServer({ plan: () => ({ ttftMs: 10, itlMs: 5, tokens: 3 }) });
    const file = out();
    await runNodeLoad(runOptions(server.url, file, { stream: false, durationMs: 300 }));
    const [r] = (await readRecords(file)).filter((x) => x.ok);
    expect(r).toMatchObject({
      ttft_ms: null,
      itl_p50_ms: null,
      output_tokens: 3,
      tokens_from_usage: true,
    });
    expect(r!.e2e_ms).toBeGreaterThanOrEqual(20);
    expect(server.bodies[0]).not.toHaveProperty("stream_options");
  });
});

describe("request bodies and secrets", () => {
  it("sends the sampling parameters and keeps the API key out of the records", async () => {
    server = await startPlantedServer({ plan: () => ({ ttftMs: 1, itlMs: 1, tokens: 2 }) });
    const file = out();
    const apiKey = "sk-very-secret-value-123";
    await runNodeLoad(
      runOptions(server.url, file, { apiKey, durationMs: 200, temperature: 0.7, seed: 99 }),
    );
    expect(server.bodies[0]).toMatchObject({
      model: "planted-model",
      messages: [{ role: "user", content: "Say hello." }],
      max_tokens: 4,
      ignore_eos: true,
      temperature: 0.7,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(typeof server.bodies[0]!.seed).toBe("number");
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(file, "utf8")).not.toContain(apiKey);
  });
});

describe("schedules", () => {
  it("closed loop: concurrency never exceeds the user count", async () => {
    server = await startPlantedServer({
      plan: (_b, i) => ({ ttftMs: 5 + (i % 7), itlMs: 3, tokens: 4 }),
    });
    const file = out();
    const users = 8;
    await runNodeLoad(
      runOptions(server.url, file, {
        schedule: { mode: "closed", users, spawnRate: 40, thinkTimeMs: 5 },
        durationMs: 800,
      }),
    );
    expect(server.maxActive).toBeLessThanOrEqual(users);
    const records = await readRecords(file);
    // Sweep over send/end events: in-flight requests never exceed the users.
    const events = records.flatMap((r) => [
      { t: r.start_us, d: 1 },
      { t: r.end_us, d: -1 },
    ]);
    events.sort((a, b) => a.t - b.t || a.d - b.d);
    let live = 0;
    let peak = 0;
    for (const e of events) {
      live += e.d;
      peak = Math.max(peak, live);
    }
    expect(peak).toBeLessThanOrEqual(users);
    expect(peak).toBeGreaterThanOrEqual(users - 1);
    // Users ramp at 40/s: user 7 starts 175 ms in.
    const firstOfLast = records.find((r) => r.request_id === "u7-0")!;
    const firstOfAll = Math.min(...records.map((r) => r.start_us));
    expect((firstOfLast.start_us - firstOfAll) / 1000).toBeGreaterThanOrEqual(170);
  });

  it("open loop: max concurrency caps requests in flight, warm-up requests are flagged", async () => {
    server = await startPlantedServer({ plan: () => ({ ttftMs: 30, itlMs: 10, tokens: 4 }) });
    const file = out();
    const result = await runNodeLoad(
      runOptions(server.url, file, {
        schedule: { mode: "open", rate: 200, arrival: "poisson", burstiness: 1, maxConcurrency: 3 },
        warmupMs: 200,
        durationMs: 400,
      }),
    );
    expect(server.maxActive).toBeLessThanOrEqual(3);
    const records = await readRecords(file);
    expect(result.records).toBe(records.length);
    for (const r of records) expect(r.warmup).toBe(r.start_us < result.windowStartUs);
    expect(records.some((r) => r.warmup)).toBe(true);
    expect(records.some((r) => !r.warmup)).toBe(true);
    expect(result.windowEndUs - result.windowStartUs).toBe(400_000);
  });

  it("the same seed sends the same prompts in the same order (open loop)", async () => {
    const promptSet = {
      ...ONE_PROMPT,
      prompts: ["a", "b", "c", "d", "e"].map((t, i) => ({
        id: `L${i + 1}`,
        text: t,
        messages: null,
        tokens: null,
      })),
    };
    const sent: string[][] = [];
    for (let run = 0; run < 2; run++) {
      server = await startPlantedServer({ plan: () => ({ ttftMs: 1, itlMs: 1, tokens: 1 }) });
      await runNodeLoad(
        runOptions(server.url, out(), {
          promptSet,
          schedule: { mode: "open", rate: 100, arrival: "constant", burstiness: 1 },
          durationMs: 150,
        }),
      );
      sent.push(server.bodies.map((b) => (b.messages as { content: string }[])[0]!.content));
      await server.close();
      server = null;
    }
    expect(sent[0]!.length).toBeGreaterThan(10);
    expect(sent[1]!.slice(0, 10)).toEqual(sent[0]!.slice(0, 10));
    expect(new Set(sent[0]).size).toBeGreaterThan(2);
  });
});

describe("error kinds", () => {
  // A reset mid-body sometimes reaches the client as a plain close (the kernel
  // delivers the RST after the data already read): reset-mid is checked apart.
  const faults: Array<[Fault, RequestRecord["error_kind"], number | null]> = [
    ["http500", "http_5xx", 500],
    ["reset", "reset", null],
    ["truncate", "truncated", 200],
    ["stall", "timeout", 200],
    ["error-mid", "http_5xx", 200],
    ["bad-json", "bad_payload", 200],
  ];
  it.each(faults)("%s → %s", async (fault, kind, status) => {
    server = await startPlantedServer({ plan: () => ({ ttftMs: 2, itlMs: 2, tokens: 4, fault }) });
    const file = out();
    await runNodeLoad(runOptions(server.url, file, { durationMs: 400, timeoutMs: 150 }));
    const records = await readRecords(file);
    const settled = records.filter((r) => r.error_kind !== "cancelled");
    expect(settled.length).toBeGreaterThan(0);
    for (const r of settled) {
      expect(r).toMatchObject({ ok: false, error_kind: kind, http_status: status });
      expect(r.error_message).toBeTruthy();
    }
  });

  it("reset mid-stream → reset (or truncated, when the RST trails a clean close)", async () => {
    server = await startPlantedServer({
      plan: () => ({ ttftMs: 2, itlMs: 2, tokens: 4, fault: "reset-mid" }),
    });
    const file = out();
    await runNodeLoad(runOptions(server.url, file, { durationMs: 400 }));
    const settled = (await readRecords(file)).filter((r) => r.error_kind !== "cancelled");
    expect(settled.length).toBeGreaterThan(0);
    for (const r of settled) {
      expect(r.ok).toBe(false);
      expect(["reset", "truncated"]).toContain(r.error_kind);
      // The kernel drops bytes not yet read when the RST lands, the head included: a client that
      // had read nothing knows no status and no first token, and must say so (null, not 200).
      if (r.http_status === null) expect(r).toMatchObject({ error_kind: "reset", ttft_ms: null });
      else expect(r.http_status).toBe(200);
    }
    expect(settled.some((r) => r.http_status === 200)).toBe(true);
    expect(settled.filter((r) => r.error_kind === "reset").length).toBeGreaterThan(
      settled.length / 2,
    );
  });

  it("connect: nothing listening", async () => {
    const probe = await startPlantedServer({ plan: () => ({ ttftMs: 1, itlMs: 1 }) });
    const url = probe.url;
    await probe.close();
    const file = out();
    await runNodeLoad(runOptions(url, file, { durationMs: 100 }));
    const records = (await readRecords(file)).filter((r) => r.error_kind !== "cancelled");
    expect(records.length).toBeGreaterThan(0);
    // Refused users back off instead of spinning: a handful of records, not thousands.
    expect(records.length).toBeLessThan(10);
    for (const r of records)
      expect(r).toMatchObject({ ok: false, error_kind: "connect", http_status: null });
  });
});

describe("stopping", () => {
  it("follows every request sent in the window to its end while the load goes on (a cool-down)", async () => {
    // User 1's first request streams 8 tokens (~0.8 s); user 0's are 2 tokens (~0.2 s) each.
    server = await startPlantedServer({
      plan: (_body, index) => ({ ttftMs: 10, itlMs: 100, tokens: index === 1 ? 8 : 2 }),
    });
    const file = out();
    const r = await runNodeLoad(
      runOptions(server.url, file, {
        schedule: { mode: "closed", users: 2, thinkTimeMs: 0 },
        durationMs: 300,
        maxTokens: 8, // the planted answers' longest: more would be an impossible usage
      }),
    );
    const records = await readRecords(file);
    const sentInWindow = records.filter((x) => x.start_us < r.windowEndUs);
    const coolDown = records.filter((x) => x.start_us >= r.windowEndUs);
    // None sent in the window was cut: the long one ended ok, well after the window.
    expect(sentInWindow.every((x) => x.ok)).toBe(true);
    const last = Math.max(...sentInWindow.map((x) => x.end_us));
    expect(last).toBeGreaterThan(r.windowEndUs + 300_000);
    // The other user kept sending meanwhile; what it had in flight at the end was cancelled.
    expect(coolDown.filter((x) => x.ok).length).toBeGreaterThan(0);
    const cancelled = records.filter((x) => x.error_kind === "cancelled");
    expect(cancelled.length).toBeLessThanOrEqual(1);
    for (const x of cancelled) {
      expect(x.start_us).toBeGreaterThanOrEqual(r.windowEndUs);
      expect(x.error_message).toBe("sent in the cool-down after the window");
    }
    // The window stays the planned one; the cool-down ended with its last request.
    expect((r.windowEndUs - r.windowStartUs) / 1000).toBeCloseTo(300, -1);
    expect(Math.max(...records.map((x) => x.end_us))).toBeLessThan(last + 150_000);
  });

  it("caps the cool-down at the request timeout: a stalled request times out, is not cut", async () => {
    server = await startPlantedServer({ plan: () => ({ ttftMs: 10, itlMs: 100, tokens: 50 }) });
    const file = out();
    const t0 = Date.now();
    const r = await runNodeLoad(
      runOptions(server.url, file, { durationMs: 200, timeoutMs: 600, maxTokens: 50 }),
    );
    expect(Date.now() - t0).toBeLessThan(200 + 600 + 1_000 + 500);
    const records = await readRecords(file);
    expect(records.map((x) => x.error_kind)).toEqual(["timeout"]);
    expect(records[0]!.start_us).toBeLessThan(r.windowEndUs);
  });

  it("with drain, sends nothing after the window and lets what is in flight finish", async () => {
    server = await startPlantedServer({ plan: () => ({ ttftMs: 10, itlMs: 100, tokens: 5 }) });
    const drained = out();
    await runNodeLoad(
      runOptions(server.url, drained, { durationMs: 200, drain: true, maxTokens: 5 }),
    );
    const drainedRecords = await readRecords(drained);
    expect(drainedRecords).toHaveLength(1);
    expect(drainedRecords[0]).toMatchObject({ ok: true, output_tokens: 5 });
  });

  it("an abort (SIGINT) stops cleanly and keeps what was recorded", async () => {
    server = await startPlantedServer({ plan: () => ({ ttftMs: 5, itlMs: 5, tokens: 3 }) });
    const file = out();
    const controller = new AbortController();
    const ticks: number[] = [];
    setTimeout(() => controller.abort(), 600);
    const result = await runNodeLoad(
      runOptions(server.url, file, {
        schedule: { mode: "closed", users: 4, thinkTimeMs: 0 },
        durationMs: 60_000,
        signal: controller.signal,
        onProgress: (c) => ticks.push(c.completed),
      }),
    );
    expect(result.interrupted).toBe(true);
    expect((result.windowEndUs - result.windowStartUs) / 1000).toBeLessThan(5_000);
    const records = await readRecords(file);
    expect(records.length).toBe(result.records);
    expect(records.filter((r) => r.ok).length).toBeGreaterThan(10);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(result.counters.completed).toBe(records.filter((r) => r.ok).length);
  });
});
