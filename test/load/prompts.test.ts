import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError } from "../../common/errors.ts";
import { preparePromptSet } from "../../load/node/prompt-files.ts";
import { drawTokenLengths } from "../../load/workload/prompts.ts";
import { createRng } from "../../stats/rng.ts";
import { tempDir } from "./helpers.ts";
import { type PlantedServer, startPlantedServer } from "./planted-server.ts";

let dir: string;
let cleanup: () => Promise<void>;
let withTokenizer: PlantedServer;
let withoutTokenizer: PlantedServer;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  withTokenizer = await startPlantedServer({
    plan: () => ({ ttftMs: 1, itlMs: 1 }),
    tokenize: true,
  });
  withoutTokenizer = await startPlantedServer({ plan: () => ({ ttftMs: 1, itlMs: 1 }) });
});
afterAll(async () => {
  await withTokenizer.close();
  await withoutTokenizer.close();
  await cleanup();
});

const base = { seed: 5, model: "planted-model" };

describe("prompt files", () => {
  it("reads one prompt a line, skipping blank lines, relative to the matrix directory", async () => {
    await writeFile(join(dir, "p.txt"), "first prompt\n\n  second prompt  \r\nthird\n");
    const set = await preparePromptSet("short", { file: "p.txt" }, { ...base, baseDir: dir });
    expect(set).toMatchObject({ name: "short", source: "file", tokensEstimated: false });
    expect(set.prompts.map((p) => [p.id, p.text])).toEqual([
      ["L1", "first prompt"],
      ["L3", "second prompt"],
      ["L4", "third"],
    ]);
  });

  it("reads JSONL with prompt or messages", async () => {
    const lines = [
      JSON.stringify({ prompt: "plain" }),
      JSON.stringify({
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "hi" },
        ],
      }),
    ];
    await writeFile(join(dir, "p.jsonl"), `${lines.join("\n")}\n`);
    const set = await preparePromptSet(
      "chat",
      { file: join(dir, "p.jsonl") },
      { ...base, baseDir: "/" },
    );
    expect(set.prompts[0]).toMatchObject({ text: "plain", messages: null });
    expect(set.prompts[1]!.messages).toHaveLength(2);
  });

  it.each([
    ['{"prompt": "ok"}\n{"prompt": 3}\n', 2, "prompt"],
    ['{"prompt": "ok"}\nnot json\n', 2, undefined],
    ['{"messages": [{"role": "user"}]}\n', 1, "messages"],
    ["\n\n", 1, undefined],
  ])("rejects bad JSONL %j with a DataError at line %i", async (text, line, field) => {
    const file = join(dir, `bad-${line}-${field}.jsonl`);
    await writeFile(file, text);
    const error = await preparePromptSet("bad", { file }, { ...base, baseDir: dir }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(DataError);
    expect(error.location).toMatchObject({ file, line });
    if (field) expect(error.location.field).toBe(field);
  });

  it("names the missing file and the field", async () => {
    const error = await preparePromptSet(
      "gone",
      { file: "nope.txt" },
      { ...base, baseDir: dir },
    ).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.format()).toContain("nope.txt");
    expect(error.format()).toContain("prompts.gone.file");
  });
});

describe("synthetic prompts", () => {
  const spec = {
    tokens: { dist: "uniform" as const, min: 20, max: 200 },
    count: 24,
    chars_per_token: 4,
  };

  it("are calibrated to exact token counts when the server answers /tokenize", async () => {
    const set = await preparePromptSet("syn", spec, {
      ...base,
      baseDir: dir,
      tokenizeUrl: withTokenizer.url,
    });
    expect(set).toMatchObject({ source: "synthetic", tokensEstimated: false });
    const targets = drawTokenLengths(spec.tokens, spec.count, createRng(base.seed, 0x5eed));
    for (const [i, p] of set.prompts.entries()) {
      // The planted tokenizer counts words: the prompt has exactly the drawn length.
      expect(p.text!.split(/\s+/).length).toBe(targets[i]);
      expect(p.tokens).toBe(targets[i]);
    }
  });

  it("fall back to a characters-per-token estimate, recorded as such", async () => {
    const set = await preparePromptSet("syn", spec, {
      ...base,
      baseDir: dir,
      tokenizeUrl: withoutTokenizer.url,
    });
    expect(set.tokensEstimated).toBe(true);
    for (const p of set.prompts) expect(p.text!.length).toBe(Math.round(p.tokens! * 4));
  });

  it("are the same for the same seed and differ for another", async () => {
    const a = await preparePromptSet("syn", spec, { ...base, baseDir: dir });
    const b = await preparePromptSet("syn", spec, { ...base, baseDir: dir });
    const c = await preparePromptSet("syn", spec, { ...base, seed: 6, baseDir: dir });
    expect(b.prompts).toEqual(a.prompts);
    expect(c.prompts).not.toEqual(a.prompts);
    expect(new Set(a.prompts.map((p) => p.text)).size).toBe(a.prompts.length);
  });

  it("draw lengths from a normal distribution clipped to [min, max]", () => {
    const lengths = drawTokenLengths(
      { dist: "normal", mean: 100, std: 30, min: 60, max: 130 },
      20_000,
      createRng(1),
    );
    expect(Math.min(...lengths)).toBe(60);
    expect(Math.max(...lengths)).toBe(130);
    const inner = lengths.filter((l) => l > 60 && l < 130);
    const mean = inner.reduce((a, b) => a + b, 0) / inner.length;
    expect(mean).toBeGreaterThan(95);
    expect(mean).toBeLessThan(100);
  });
});
