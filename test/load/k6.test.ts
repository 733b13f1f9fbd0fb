import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildK6Options, type K6Params, k6Duration } from "../../load/k6/options.ts";
import { hasK6, parseK6ConsoleLine, runK6Load } from "../../load/k6/runner.ts";
import { openArrivalTimesMs } from "../../load/workload/arrivals.ts";
import { buildRecord } from "../../load/workload/record-builder.ts";
import { ResponseTracker } from "../../load/workload/response-tracker.ts";
import { scenarioSchedule } from "../../load/workload/scenarios.ts";
import { readRecords, runOptions, tempDir } from "./helpers.ts";
import { type PlantedServer, startPlantedServer } from "./planted-server.ts";
import { expectWaves } from "./waves.ts";

const k6Available = await hasK6();
if (!k6Available) {
  console.warn("test/load/k6.test.ts: `k6` is not on PATH; the tests that run k6 are skipped");
}

const baseParams: K6Params = {
  url: "http://127.0.0.1:1",
  model: "m",
  api: "chat",
  experimentId: "e",
  promptsFile: "/tmp/p.json",
  promptSetName: "p",
  schedule: { mode: "closed", users: 10, spawnRate: 5, thinkTimeMs: 0 },
  warmupMs: 5_000,
  durationMs: 30_000,
  maxTokens: 16,
  stream: true,
  ignoreEos: true,
  temperature: 0,
  timeoutMs: 60_000,
  seed: 3,
  drain: false,
  summaryFile: "/tmp/s.json",
  maxErrorRate: 0.05,
};

const msOf = (d: string) => Number(d.replace(/ms$/, ""));

describe("k6 options from the schedule", () => {
  it("closed loop → ramping-vus ramped at the spawn rate over the whole run", () => {
    const { scenarios } = buildK6Options(baseParams) as {
      scenarios: { load: Record<string, unknown> };
    };
    expect(scenarios.load).toMatchObject({
      executor: "ramping-vus",
      startVUs: 0,
      stages: [
        { duration: "2000ms", target: 10 },
        { duration: "33000ms", target: 10 },
      ],
      gracefulStop: "0s",
    });
    const drained = buildK6Options({ ...baseParams, drain: true }) as {
      scenarios: { load: Record<string, unknown> };
    };
    expect(drained.scenarios.load.gracefulStop).toBe(k6Duration(60_000));
  });

  it("scenarios → constant VUs: one VU of B-request batches (prefill-only), B VUs (decode-only)", () => {
    const options = (scenario: "prefill-only" | "decode-only") =>
      buildK6Options({ ...baseParams, schedule: scenarioSchedule(scenario, 8) }) as {
        scenarios: { load: Record<string, unknown> };
        batchPerHost?: number;
      };
    const prefill = options("prefill-only");
    expect(prefill.scenarios.load).toEqual({
      executor: "constant-vus",
      vus: 1,
      duration: "35000ms",
      gracefulStop: "0s",
    });
    // k6 sends 6 of a batch at a time by default: a wave must leave whole.
    expect(prefill.batchPerHost).toBe(8);
    const decode = options("decode-only");
    expect(decode.scenarios.load).toMatchObject({ executor: "constant-vus", vus: 8 });
    expect(decode.batchPerHost).toBeUndefined();
  });

  it("constant arrivals → constant-arrival-rate with whole iterations per unit", () => {
    const p = {
      ...baseParams,
      schedule: { mode: "open", rate: 2.5, arrival: "constant", burstiness: 1 },
    } as K6Params;
    const { scenarios } = buildK6Options(p) as { scenarios: { load: Record<string, unknown> } };
    expect(scenarios.load).toMatchObject({
      executor: "constant-arrival-rate",
      rate: 2500,
      timeUnit: "1000s",
    });
  });

  it("poisson arrivals → per-second stages replaying the seeded schedule", () => {
    const schedule = {
      mode: "open",
      rate: 7,
      arrival: "poisson",
      burstiness: 1,
      maxConcurrency: 20,
    } as const;
    const p = { ...baseParams, schedule } as K6Params;
    const { scenarios } = buildK6Options(p) as {
      scenarios: {
        load: { executor: string; maxVUs: number; stages: { duration: string; target: number }[] };
      };
    };
    expect(scenarios.load.executor).toBe("ramping-arrival-rate");
    expect(scenarios.load.maxVUs).toBe(20);
    const holds = scenarios.load.stages.filter((s) => s.duration !== "0s");
    expect(holds.reduce((a, s) => a + msOf(s.duration), 0)).toBe(35_000);
    const expected = openArrivalTimesMs(schedule, 3, 35_000).length;
    expect(holds.reduce((a, s) => a + (s.target * msOf(s.duration)) / 1000, 0)).toBe(expected);
    expect(new Set(holds.map((s) => s.target)).size).toBeGreaterThan(3);
  });
});

describe("k6 console output", () => {
  it("turns record lines into records and finds the start marker", () => {
    const tracker = new ResponseTracker("chat", true);
    tracker.onHeaders(200, "text/event-stream");
    tracker.onData(
      'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\ndata: [DONE]\n\n',
      0,
    );
    tracker.onEnd(12.5);
    const record = buildRecord(
      {
        experimentId: "e",
        engine: "k6",
        requestId: "k6-1-0",
        promptSet: "p",
        promptTokensKnown: null,
        warmup: false,
        startUs: 1_700_000_000_000_000,
        sendMs: 0,
        chunkTimesVisible: false,
      },
      tracker.outcome(),
    );
    const parsed = parseK6ConsoleLine(JSON.stringify(record));
    expect(parsed).toEqual({ kind: "record", record });
    expect(record).toMatchObject({
      ttft_ms: null,
      e2e_ms: 12.5,
      output_tokens: 1,
      tokens_from_usage: true,
      ok: true,
    });
    expect(parseK6ConsoleLine('{"vscale_k6_start_us": 17}')).toEqual({
      kind: "start",
      startUs: 17,
    });
    expect(parseK6ConsoleLine("time=... level=warning msg=x")).toEqual({ kind: "other" });
    expect(parseK6ConsoleLine('{"experiment_id": 3}').kind).toBe("invalid");
  });
});

describe.skipIf(!k6Available)("k6 against the planted server", () => {
  let server: PlantedServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    server = await startPlantedServer({ plan: () => ({ ttftMs: 5, itlMs: 2, tokens: 4 }) });
  });
  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  it("chat.ts: records E2E and usage tokens, no TTFT, plus a summary", async () => {
    const out = join(dir, "k6.ndjson");
    const summaryFile = join(dir, "k6-summary.json");
    const result = await runK6Load({
      ...runOptions(server.url, out, {
        durationMs: 2000,
        schedule: { mode: "closed", users: 2, thinkTimeMs: 0 },
      }),
      summaryFile,
    });
    const records = await readRecords(out);
    expect(records.length).toBe(result.records);
    expect(records.filter((r) => r.ok).length).toBeGreaterThan(5);
    for (const r of records.filter((x) => x.ok)) {
      expect(r).toMatchObject({
        engine: "k6",
        ttft_ms: null,
        output_tokens: 4,
        tokens_from_usage: true,
      });
    }
    expect(existsSync(summaryFile)).toBe(true);
  });

  it("chat.ts prefill-only: waves of B one-token requests, each after the last one ended", async () => {
    const out = join(dir, "k6-waves.ndjson");
    await runK6Load({
      ...runOptions(server.url, out, {
        durationMs: 1500,
        schedule: scenarioSchedule("prefill-only", 4),
      }),
      summaryFile: join(dir, "k6-waves-summary.json"),
    });
    const records = (await readRecords(out)).filter((r) => r.ok);
    expect(expectWaves(records, 4)).toBeGreaterThan(3);
  });
});
