/**
 * Multi-turn sessions: each user's turn t sends the conversation so far, so
 * the prompt the server counts grows turn by turn within a session and falls
 * back when the next session starts; ShareGPT replies are replayed as history.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preparePromptSet } from "../../load/node/prompt-files.ts";
import { runNodeLoad } from "../../load/node/run.ts";
import { planRequest } from "../../load/workload/request-plan.ts";
import { type SimServer, startSimServer } from "../../sim/server.ts";
import { readRecords, runOptions, tempDir } from "./helpers.ts";

const MODEL = "sim-model";
let dir: string;
let cleanup: () => Promise<void>;
let server: SimServer;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  server = await startSimServer({ model: MODEL, simTimeScale: 50 });
});
afterAll(async () => {
  await server.close();
  await cleanup();
});

describe("multi-turn sessions", () => {
  it("history grows turn by turn, replies come from the conversation", async () => {
    const set = await preparePromptSet(
      "chat",
      { file: "sharegpt_sample.json" },
      {
        baseDir: join(import.meta.dirname, "..", "..", "config"),
        seed: 1,
        model: MODEL,
        tokenizeUrl: server.url,
      },
    );
    const run = runOptions(server.url, join(dir, "s.ndjson"), {
      model: MODEL,
      promptSet: set,
      schedule: { mode: "closed", users: 3, thinkTimeMs: 5, turns: 3 },
      durationMs: 2_000,
      maxTokens: 8,
      drain: true,
    });
    await runNodeLoad(run);
    const records = (await readRecords(run.outFile)).filter((r) => r.ok);
    const byId = new Map(records.map((r) => [r.request_id, r]));
    let grown = 0;
    for (const r of records) {
      const [user, k] = r.request_id.slice(1).split("-").map(Number) as [number, number];
      const planned = planRequest(run, set.prompts, { mode: "closed", user, k });
      const messages = planned.prompt.messages!;
      expect(messages).toHaveLength(2 * (k % 3) + 1);
      expect(r.output_tokens).toBe(planned.prompt.outputTokens);
      const first = set.prompts[planned.promptIndex]!;
      // The first turn is the conversation's first human turn; its reply is the history.
      expect(messages[0]!.content).toBe(first.text);
      if (k % 3 > 0) {
        expect(messages[1]!.content).toBe(first.conversation![1]!.content);
        const before = byId.get(`u${user}-${k - 1}`);
        if (before) {
          expect(r.prompt_tokens!).toBeGreaterThan(before.prompt_tokens! + before.output_tokens!);
          grown++;
        }
      }
    }
    expect(grown).toBeGreaterThan(4);
  });
});
