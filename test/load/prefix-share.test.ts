/**
 * The prompt set's prefix share (load/workload/prefix-share.ts): exact on
 * small sets, near prefix / (prefix + own) on a synthetic `prefix`/`groups`
 * set, and below the `cache` class's threshold for every prompt set of the
 * shipped matrix, whose prompts share no prefixes.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { THRESHOLDS } from "../../analysis/why/classify.ts";
import { PromptSetSchema, type PromptSetSpec } from "../../config/schema.ts";
import { preparePromptSet } from "../../load/node/prompt-files.ts";
import { MIN_SHARED_PREFIX_CHARS, promptPrefixShare } from "../../load/workload/prefix-share.ts";
import { buildSyntheticPromptSet, type Prompt } from "../../load/workload/prompts.ts";

const CONFIG = resolve(dirname(fileURLToPath(import.meta.url)), "../../config");
const text = (t: string, i = 0): Prompt => ({ id: `L${i}`, text: t, messages: null, tokens: null });

describe("promptPrefixShare", () => {
  it("counts each prompt's longest run shared with another, from one block's worth of characters", () => {
    const head = "x".repeat(MIN_SHARED_PREFIX_CHARS);
    const prompts = [`${head}aaaa`, `${head}bbbb`, "unrelated and alone"].map((t, i) => text(t, i));
    const total = prompts.reduce((n, p) => n + (p.text as string).length, 0);
    expect(promptPrefixShare(prompts)).toBeCloseTo((2 * MIN_SHARED_PREFIX_CHARS) / total, 12);
    // One character short of a block: a common opening, not a cacheable prefix.
    const short = head.slice(1);
    expect(promptPrefixShare([text(`${short}a`), text(`${short}b`)])).toBe(0);
    expect(promptPrefixShare([text(`${head}same`), text(`${head}same`)])).toBe(1);
    expect(promptPrefixShare([text(`${head}alone`)])).toBe(0);
    // Chat messages are measured as the text sent: their contents joined.
    const chat = (q: string): Prompt => ({
      id: q,
      text: null,
      messages: [
        { role: "system", content: head },
        { role: "user", content: q },
      ],
      tokens: null,
    });
    expect(promptPrefixShare([chat("one"), chat("two")])).toBeGreaterThan(0.9);
  });

  it("finds a synthetic set's planted prefix share", async () => {
    const set = await buildSyntheticPromptSet({
      name: "shared",
      tokens: { dist: "fixed", mean: 32, prefix: 256, groups: 2 },
      count: 32,
      charsPerToken: 4,
      seed: 7,
    });
    expect(Math.abs(promptPrefixShare(set.prompts) - 256 / 288)).toBeLessThan(0.03);
  });

  it("stays below the cache threshold on every prompt set of the shipped matrix", async () => {
    const matrix = parse(await readFile(join(CONFIG, "experiment_matrix.yaml"), "utf8")) as {
      prompts: Record<string, unknown>;
    };
    for (const [name, raw] of Object.entries(matrix.prompts)) {
      const spec: PromptSetSpec = PromptSetSchema.parse(raw);
      const set = await preparePromptSet(name, spec, { baseDir: CONFIG, seed: 42, model: "m" });
      expect(promptPrefixShare(set.prompts), name).toBeLessThan(THRESHOLDS.prefixShare);
    }
  });
});
