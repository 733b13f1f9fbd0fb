/**
 * Datasets drive the requests as stated: the ShareGPT sample in config/ sets
 * each request's output length to its reply's token count (the simulator's
 * tokenizer, which is what its /tokenize counts), JSONL `output_tokens` and
 * synthetic output distributions set `max_tokens`, prefix groups share their
 * prefix, a malformed ShareGPT entry is one line naming line:column, and
 * multi-turn sessions grow the prompt turn by turn: turn t sends the
 * conversation so far, ShareGPT replies replayed as history.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError } from "../../common/errors.ts";
import { preparePromptSet } from "../../load/node/prompt-files.ts";
import { runNodeLoad } from "../../load/node/run.ts";
import { planRequest } from "../../load/workload/request-plan.ts";
import { type SimServer, startSimServer } from "../../sim/server.ts";
import { tokenize } from "../../sim/tokenizer.ts";
import { readRecords, runOptions, tempDir } from "./helpers.ts";

const MODEL = "sim-model";
const CONFIG_DIR = join(import.meta.dirname, "..", "..", "config");
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

const opts = () => ({ baseDir: CONFIG_DIR, seed: 3, model: MODEL, tokenizeUrl: server.url });

describe("ShareGPT datasets", () => {
  it("the sample's replies set each request's output length, and the server delivers it", async () => {
    const set = await preparePromptSet("chat", { file: "sharegpt_sample.json" }, opts());
    const raw = JSON.parse(await readFile(join(CONFIG_DIR, "sharegpt_sample.json"), "utf8")) as {
      conversations: { from: string; value: string }[];
    }[];
    // The entry without a reply is skipped, as vLLM skips conversations of one turn.
    expect(set.prompts).toHaveLength(raw.length - 1);
    expect(set.tokensEstimated).toBe(false);
    for (const [i, p] of set.prompts.entries()) {
      const conv = raw[i]!.conversations;
      expect(p.text).toBe(conv[0]!.value);
      expect(p.outputTokens).toBe(tokenize(conv[1]!.value).length);
    }
    expect(new Set(set.prompts.map((p) => p.outputTokens)).size).toBeGreaterThan(5);

    const run = runOptions(server.url, join(dir, "sharegpt.ndjson"), {
      model: MODEL,
      promptSet: set,
      schedule: { mode: "closed", users: 4, thinkTimeMs: 0 },
      durationMs: 1_500,
      maxTokens: 999, // the dataset's lengths win over the experiment's
      drain: true,
    });
    await runNodeLoad(run);
    const records = (await readRecords(run.outFile)).filter((r) => r.ok);
    expect(records.length).toBeGreaterThan(8);
    for (const r of records) {
      const [user, k] = r.request_id.slice(1).split("-").map(Number);
      const planned = planRequest(run, set.prompts, { mode: "closed", user: user!, k: k! });
      expect(r.output_tokens).toBe(planned.prompt.outputTokens);
    }
  });

  it("a malformed entry is one error naming line:column and the field", async () => {
    const text = '[\n  {"conversations": [{"from": "human", "value": "hi"}]},\n  {"conv": []}\n]\n';
    await writeFile(join(dir, "bad.json"), text);
    const error = await preparePromptSet("x", { file: "bad.json" }, { ...opts(), baseDir: dir })
      .then(() => null)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).format()).toBe(
      `${join(dir, "bad.json")}:3:3: prompts.x.file[1].conversations: expected {"conversations": [{"from": …, "value": …}, …]}`,
    );
  });
});

describe("output lengths and prefix sharing", () => {
  it("JSONL output_tokens becomes max_tokens", async () => {
    await writeFile(join(dir, "o.jsonl"), '{"prompt": "a", "output_tokens": 7}\n{"prompt": "b"}\n');
    const set = await preparePromptSet("o", { file: "o.jsonl" }, { ...opts(), baseDir: dir });
    expect(set.prompts.map((p) => p.outputTokens)).toEqual([7, undefined]);
    const body = (i: number) =>
      JSON.parse(
        planRequest(runOptions("http://x", "f", { maxTokens: 64 }), [set.prompts[i]!], {
          mode: "open",
          arrival: 0,
        }).body,
      ) as { max_tokens: number };
    expect([body(0).max_tokens, body(1).max_tokens]).toEqual([7, 64]);
  });

  it("synthetic output lengths follow their distribution; groups share a prefix of P tokens", async () => {
    const set = await preparePromptSet(
      "rag",
      {
        tokens: { dist: "fixed", mean: 20, prefix: 50, groups: 3 },
        output_tokens: { dist: "uniform", min: 10, max: 30 },
        count: 60,
        chars_per_token: 4,
      },
      opts(),
    );
    const outs = set.prompts.map((p) => p.outputTokens!);
    expect(Math.min(...outs)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...outs)).toBeLessThanOrEqual(30);
    expect(new Set(outs).size).toBeGreaterThan(10);
    // Calibrated against /tokenize: 50 prefix tokens plus 20 of its own (a word may not fit).
    const prefixOf = (i: number) => tokenize(set.prompts[i]!.text!).slice(0, 45).join(",");
    for (const [i, p] of set.prompts.entries()) {
      expect(p.tokens).toBe(tokenize(p.text!).length);
      expect(p.tokens).toBeGreaterThanOrEqual(66);
      expect(p.tokens).toBeLessThanOrEqual(70);
      expect(prefixOf(i)).toBe(prefixOf(i % 3));
    }
    expect(new Set([0, 1, 2].map(prefixOf)).size).toBe(3);
  });
});

describe("multi-turn sessions", () => {
  it("history grows turn by turn, replies come from the conversation", async () => {
    const set = await preparePromptSet("chat", { file: "sharegpt_sample.json" }, opts());
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
