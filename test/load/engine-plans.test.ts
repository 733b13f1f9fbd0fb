/**
 * The Node engine and the k6 scenarios choose the same prompt and seed for
 * the same request of the same run. k6 is not needed: the scenario's own code
 * path (k6RequestSlot → planRequest, with the parameters the runner hands k6)
 * is called with the VU and iteration numbers k6 gives, and compared with
 * what the real Node engine sent, as the server received it.
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { k6RequestSlot } from "../../load/k6/request-slot.ts";
import { k6Params } from "../../load/k6/runner.ts";
import { runNodeLoad } from "../../load/node/run.ts";
import type { LoadSchedule } from "../../load/workload/arrivals.ts";
import type { PreparedPromptSet } from "../../load/workload/prompts.ts";
import { planRequest } from "../../load/workload/request-plan.ts";
import { LETTER_PROMPTS as PROMPTS, runOptions, tempDir } from "./helpers.ts";
import { type PlantedServer, startPlantedServer } from "./planted-server.ts";

let dir: string;
let cleanup: () => Promise<void>;
let server: PlantedServer;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());
afterEach(() => server?.close());

/** Runs the Node engine; returns what the server got: request id → body. */
async function nodeSent(schedule: LoadSchedule, seed: number) {
  server = await startPlantedServer({ plan: () => ({ ttftMs: 1, itlMs: 1, tokens: 1 }) });
  const opts = runOptions(server.url, join(dir, `${schedule.mode}.ndjson`), {
    promptSet: PROMPTS,
    schedule,
    durationMs: 300,
    seed,
  });
  await runNodeLoad(opts);
  const sent = new Map(server.stats.map((s, i) => [s.requestId, server.bodies[i]!]));
  // As k6 gets them: the runner's parameters, the prompt set through JSON (k6's open()).
  const params = k6Params({ ...opts, summaryFile: join(dir, "s.json") }, "prompts.json");
  const prompts = (JSON.parse(JSON.stringify(PROMPTS)) as PreparedPromptSet).prompts;
  return { sent, params, prompts };
}

const contentOf = (body: Record<string, unknown>) =>
  (body.messages as { content: string }[])[0]!.content;

describe("Node and k6 plan the same requests", () => {
  it("closed loop: VU v, iteration k of k6 is user v − 1's k-th request", async () => {
    const schedule: LoadSchedule = { mode: "closed", users: 3, thinkTimeMs: 0 };
    const { sent, params, prompts } = await nodeSent(schedule, 7);
    expect(sent.size).toBeGreaterThan(20);
    let compared = 0;
    for (let vu = 1; vu <= 3; vu++) {
      for (let iteration = 0; sent.has(`u${vu - 1}-${iteration}`); iteration++) {
        const slot = k6RequestSlot(params.schedule, {
          vuIdInTest: vu,
          vuIterationInScenario: iteration,
          scenarioIterationInTest: 999, // not used by a closed loop
        });
        const k6 = planRequest(params, prompts, slot);
        const node = sent.get(k6.requestId)!;
        expect(JSON.parse(k6.body)).toEqual(node);
        compared++;
      }
    }
    expect(compared).toBe(sent.size);
    // Prompts and seeds really vary, so agreeing means something.
    const bodies = [...sent.values()];
    expect(new Set(bodies.map(contentOf)).size).toBeGreaterThan(3);
    expect(new Set(bodies.map((b) => b.seed)).size).toBe(bodies.length);
  });

  it("open loop: k6's iteration i in the scenario is arrival i", async () => {
    const schedule: LoadSchedule = { mode: "open", rate: 100, arrival: "poisson", burstiness: 1 };
    const { sent, params, prompts } = await nodeSent(schedule, 11);
    expect(sent.size).toBeGreaterThan(10);
    for (const [requestId, node] of sent) {
      const arrival = Number(requestId.slice(1));
      // VUs are pooled in an arrival-rate executor: any VU may run any iteration.
      const slot = k6RequestSlot(params.schedule, {
        vuIdInTest: 1 + (arrival % 4),
        vuIterationInScenario: Math.floor(arrival / 4),
        scenarioIterationInTest: arrival,
      });
      const k6 = planRequest(params, prompts, slot);
      expect(k6.requestId).toBe(requestId);
      expect(JSON.parse(k6.body)).toEqual(node);
    }
    expect(new Set([...sent.values()].map(contentOf)).size).toBeGreaterThan(3);
  });
});
