/**
 * The Node engine on several worker threads: the same seed sends the same
 * requests (ids, prompts, seeds, arrival times) whatever the worker count,
 * records from every worker land in the one requests.ndjson, and Ctrl-C
 * stops them all.
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runLoad } from "../../load/node/workers.ts";
import type { LoadSchedule } from "../../load/workload/arrivals.ts";
import { openArrivalTimesMs } from "../../load/workload/arrivals.ts";
import { planRequest } from "../../load/workload/request-plan.ts";
import { LETTER_PROMPTS as PROMPTS, readRecords, runOptions, tempDir } from "./helpers.ts";
import { type PlantedServer, startPlantedServer } from "./planted-server.ts";

let dir: string;
let cleanup: () => Promise<void>;
let server: PlantedServer;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());
afterEach(() => server?.close());

async function run(schedule: LoadSchedule, workers: number, name: string) {
  server = await startPlantedServer({ plan: () => ({ ttftMs: 2, itlMs: 1, tokens: 2 }) });
  const file = join(dir, `${name}.ndjson`);
  const opts = runOptions(server.url, file, {
    promptSet: PROMPTS,
    schedule,
    durationMs: 600,
    seed: 5,
  });
  const progress: number[] = [];
  const result = await runLoad({ ...opts, workers, onProgress: (c) => progress.push(c.completed) });
  const bodies = new Map(server.stats.map((s, i) => [s.requestId, server.bodies[i]!]));
  await server.close();
  return { opts, result, records: await readRecords(file), bodies, progress };
}

describe("workers", () => {
  it("open loop: 1 and 3 workers send exactly the same arrivals, each at its scheduled time", async () => {
    const schedule: LoadSchedule = { mode: "open", rate: 60, arrival: "poisson", burstiness: 1 };
    const one = await run(schedule, 1, "open-1");
    const three = await run(schedule, 3, "open-3");
    const expected = openArrivalTimesMs(schedule, 5, 600).map((_, i) => `r${i}`);
    expect(expected.length).toBeGreaterThan(15);
    for (const r of [one, three]) {
      expect(r.records.map((x) => x.request_id).sort()).toEqual([...expected].sort());
      for (const [id, body] of r.bodies) {
        const planned = planRequest(r.opts, PROMPTS.prompts, {
          mode: "open",
          arrival: Number(id.slice(1)),
        });
        expect(body).toEqual(JSON.parse(planned.body));
      }
    }
    // The schedule is the seed's, not the worker count's: send times agree arrival by arrival.
    const times = openArrivalTimesMs(schedule, 5, 600);
    const lateMs = three.records.map(
      (x) =>
        (x.start_us - three.result.warmupStartUs) / 1000 - times[Number(x.request_id.slice(1))]!,
    );
    expect(Math.min(...lateMs)).toBeGreaterThan(-2);
    expect(lateMs.sort((a, b) => a - b)[Math.floor(lateMs.length / 2)]!).toBeLessThan(15);
    // All three workers' records reached the one file and the merged counters.
    expect(three.result.records).toBe(expected.length);
    const c = three.result.counters;
    expect(c.completed + c.failed + c.cancelled).toBe(expected.length);
    expect(three.result.client?.workers).toBe(3);
    expect(three.result.client?.per_worker).toHaveLength(3);
  });

  it("closed loop: every user runs, in whichever worker, with the prompts and seeds of its slot", async () => {
    const schedule: LoadSchedule = { mode: "closed", users: 5, thinkTimeMs: 20 };
    const r = await run(schedule, 2, "closed-2");
    const users = new Set(r.records.map((x) => x.request_id.split("-")[0]));
    expect(users).toEqual(new Set(["u0", "u1", "u2", "u3", "u4"]));
    expect(r.bodies.size).toBe(r.records.length);
    for (const [id, body] of r.bodies) {
      const [u, k] = id.slice(1).split("-").map(Number);
      const planned = planRequest(r.opts, PROMPTS.prompts, { mode: "closed", user: u!, k: k! });
      expect(body).toEqual(JSON.parse(planned.body));
    }
    // Live counters cover both workers: the last progress report counts every record.
    expect(r.progress.at(-1)).toBe(r.records.filter((x) => x.ok).length);
  });

  it("an abort (Ctrl-C) stops every worker and keeps what was recorded", async () => {
    server = await startPlantedServer({ plan: () => ({ ttftMs: 5, itlMs: 5, tokens: 4 }) });
    const file = join(dir, "abort.ndjson");
    const controller = new AbortController();
    const started = Date.now();
    const result = await runLoad({
      ...runOptions(server.url, file, {
        schedule: { mode: "closed", users: 4, thinkTimeMs: 0 },
        durationMs: 20_000,
      }),
      workers: 2,
      signal: controller.signal,
      // Ctrl-C once both workers are under way (thread start-up time varies with the machine).
      onProgress: (c) => {
        if (c.completed >= 8) controller.abort();
      },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.interrupted).toBe(true);
    const records = await readRecords(file);
    expect(records.length).toBe(result.records);
    expect(records.length).toBeGreaterThan(4);
    expect(new Set(records.map((x) => x.request_id.split("-")[0])).size).toBe(4);
  });
});
