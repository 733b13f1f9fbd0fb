/**
 * The scenarios' workload core (load/workload/scenarios.ts) through the
 * request plan both engines use, and the Node engine's wave barrier against a
 * real planted server on loopback.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNodeLoad } from "../../load/node/run.ts";
import { runLoad } from "../../load/node/workers.ts";
import { planRequest, samplingOf } from "../../load/workload/request-plan.ts";
import { scenarioSchedule, waveSlots } from "../../load/workload/scenarios.ts";
import { readRecords, runOptions, tempDir } from "./helpers.ts";
import { type PlantedServer, startPlantedServer } from "./planted-server.ts";
import { expectWaves } from "./waves.ts";

const prompts = Array.from({ length: 64 }, (_, i) => ({
  id: `S${i}`,
  text: `prompt ${i}`,
  messages: null,
  tokens: 2,
}));

describe("scenario request plans", () => {
  it("prefill-only: max_tokens 1; decode-only: ignore_eos; both keep the rest", () => {
    const base = runOptions("http://127.0.0.1:1", "/dev/null", {
      maxTokens: 300,
      ignoreEos: false,
    });
    const prefill = samplingOf({ ...base, schedule: scenarioSchedule("prefill-only", 4) });
    expect(prefill).toMatchObject({ maxTokens: 1, ignoreEos: false });
    const decode = samplingOf({ ...base, schedule: scenarioSchedule("decode-only", 4) });
    expect(decode).toMatchObject({ maxTokens: 300, ignoreEos: true });
    expect(samplingOf(base)).toMatchObject({ maxTokens: 300, ignoreEos: false });
  });

  it("gives a wave distinct prompts and ids u<user>-<wave>, the same on every run", () => {
    const params = runOptions("http://127.0.0.1:1", "/dev/null", {
      schedule: scenarioSchedule("prefill-only", 8),
    });
    const wave = waveSlots(3, 8).map((slot) => planRequest(params, prompts, slot));
    expect(wave.map((r) => r.requestId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((u) => `u${u}-3`));
    expect(new Set(wave.map((r) => r.promptIndex)).size).toBe(8);
    expect(JSON.parse(wave[0]!.body).max_tokens).toBe(1);
    const again = waveSlots(3, 8).map((slot) => planRequest(params, prompts, slot));
    expect(again.map((r) => r.body)).toEqual(wave.map((r) => r.body));
  });
});

describe("the Node engine's prefill-only waves", () => {
  let server: PlantedServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    server = await startPlantedServer({ plan: () => ({ ttftMs: 15, itlMs: 1, tokens: 1 }) });
  });
  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  it("sends B at a time, the next wave after the last reply, on one worker even when asked for more", async () => {
    const out = join(dir, "waves.ndjson");
    const opts = runOptions(server.url, out, {
      durationMs: 400,
      schedule: scenarioSchedule("prefill-only", 4),
    });
    const result = await runLoad({ ...opts, workers: 3 });
    expect(result.client?.per_worker).toHaveLength(1);
    expect(expectWaves(await readRecords(out), 4)).toBeGreaterThan(3);
  });

  it("refuses to split waves into shares", async () => {
    const opts = runOptions(server.url, join(dir, "shares.ndjson"), {
      schedule: scenarioSchedule("prefill-only", 4),
      share: { index: 0, count: 2 },
    });
    await expect(runNodeLoad(opts)).rejects.toThrow(/no segments/);
  });
});
