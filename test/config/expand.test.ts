import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../common/errors.ts";
import { expandMatrix, runtimeArgv } from "../../config/expand.ts";
import { parseMatrix } from "../../config/matrix-file.ts";
import { loadPlan } from "../../config/plan.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// Parsed as if the file sat beside test/fixtures/matrix/prompts.txt.
const FILE = join(ROOT, "test/fixtures/matrix/inline.yaml");

const BASE = `
campaign: t
server: { kind: sim, model: tiny }
load: { users: 4, duration: 2s, warmup: 1s }
prompts:
  short: { file: prompts.txt }
  syn: { tokens: { dist: fixed, mean: 100 } }
`;

function plan(extra: string, base = BASE) {
  return expandMatrix(parseMatrix(base + extra, FILE));
}

describe("expansion", () => {
  it("crosses factors in the written order and derives tp from gpus", () => {
    const p = plan("factors: { gpus: [1, 2], prompt_set: [short, syn] }\n");
    expect(p.experiments.map((e) => e.id)).toEqual([
      "g1-tp1-short-r1",
      "g1-tp1-syn-r1",
      "g2-tp2-short-r1",
      "g2-tp2-syn-r1",
    ]);
    expect(p.experiments[2]?.factors).toMatchObject({ gpus: 2, tp: 2, dp: 1 });
    expect(p.groups.map((g) => [g.id, g.experimentIds.length])).toEqual([
      ["g1-tp1", 2],
      ["g2-tp2", 2],
    ]);
  });

  it("splits gpus into data parallelism when the server says so", () => {
    const p = plan(
      "factors: { gpus: [4], prompt_set: short }\n",
      BASE.replace("model: tiny }", "model: tiny, parallelism: dp }"),
    );
    expect(p.experiments[0]?.id).toBe("g4-tp1-dp4-short-r1");
    expect(p.groups[0]?.argv).toEqual(expect.arrayContaining(["--data-parallel-size", "4"]));
  });

  it("derives the missing one of tp and dp, and gpus from tp × dp", () => {
    const a = plan("factors: { gpus: 8, tp: 2, prompt_set: short }\n");
    expect(a.experiments[0]?.factors).toMatchObject({ gpus: 8, tp: 2, dp: 4 });
    const b = plan("factors: { tp: 2, dp: 3, prompt_set: short }\n");
    expect(b.experiments[0]?.factors).toMatchObject({ gpus: 6, tp: 2, dp: 3 });
    expect(() => plan("factors: { gpus: 6, tp: 4, prompt_set: short }\n")).toThrow(/not divisible/);
  });

  it("places tp × pp × dp GPUs when a pipeline size is given, and passes it to the server", () => {
    const a = plan("factors: { gpus: [4, 8], pp: 2, prompt_set: short }\n");
    expect(a.experiments.map((e) => [e.id, e.factors.tp, e.factors.dp])).toEqual([
      ["g4-tp2-pp2-short-r1", 2, 1],
      ["g8-tp4-pp2-short-r1", 4, 1],
    ]);
    expect(a.groups[1]?.argv).toEqual(
      expect.arrayContaining(["--tensor-parallel-size", "4", "--pipeline-parallel-size", "2"]),
    );
    const b = plan("factors: { tp: 2, pp: 2, dp: 2, prompt_set: short }\n");
    expect(b.experiments[0]?.factors).toMatchObject({ gpus: 8, tp: 2, pp: 2, dp: 2 });
    expect(() => plan("factors: { gpus: 6, pp: 4, prompt_set: short }\n")).toThrow(
      /gpus = 6 is not divisible by pp = 4/,
    );
    expect(() => plan("factors: { gpus: 8, tp: 2, pp: 2, dp: 1, prompt_set: short }\n")).toThrow(
      /tp × pp × dp = 2 × 2 × 1 = 4, but gpus = 8/,
    );
  });

  it("applies excludes to derived factors and crosses includes with the remaining factors", () => {
    const p = plan(`factors: { gpus: [1, 2, 4], users: [4, 8], prompt_set: short }
exclude:
  - { tp: 4, users: 4 }
include:
  - { gpus: 8, users: [16, 32] }
`);
    const ids = p.experiments.map((e) => e.id);
    expect(ids).not.toContain("g4-tp4-u4-short-r1");
    expect(ids).toContain("g4-tp4-u8-short-r1");
    expect(ids).toEqual(expect.arrayContaining(["g8-tp8-u16-short-r1", "g8-tp8-u32-short-r1"]));
    expect(ids).toHaveLength(3 * 2 - 1 + 2);
    expect(p.experiments.filter((e) => e.included)).toHaveLength(2);
  });

  it("repeats every experiment with distinct, stable seeds", () => {
    const p = plan("repeats: 3\nfactors: { gpus: [1, 2], prompt_set: short }\n");
    expect(p.experiments.map((e) => e.id)).toEqual([
      "g1-tp1-short-r1",
      "g1-tp1-short-r2",
      "g1-tp1-short-r3",
      "g2-tp2-short-r1",
      "g2-tp2-short-r2",
      "g2-tp2-short-r3",
    ]);
    expect(new Set(p.experiments.map((e) => e.seed)).size).toBe(6);
    const again = plan("repeats: 3\nfactors: { gpus: [1, 2], prompt_set: short }\n");
    expect(again.experiments.map((e) => e.seed)).toEqual(p.experiments.map((e) => e.seed));
  });

  it("keeps ids when unrelated parts of the file change", () => {
    const a = plan("factors: { gpus: [1, 2], users: [4, 8], prompt_set: short }\n");
    const edited = BASE.replace("campaign: t", "campaign: renamed").replace(
      "duration: 2s",
      "duration: 3m",
    );
    const b = plan(
      "factors: { users: [4, 8], prompt_set: short, gpus: [1, 2] }\ninclude: [{ gpus: 8, users: 4 }]\n",
      edited,
    );
    const idsB = new Set(b.experiments.map((e) => e.id));
    for (const e of a.experiments) expect(idsB.has(e.id)).toBe(true);
    // …and a load factor override reaches the experiment's load section.
    expect(b.experiments.find((e) => e.id === "g2-tp2-u8-short-r1")?.load.users).toBe(8);
    expect(b.experiments[0]?.load.duration).toBe(180_000);
  });

  it("groups experiments whose server argv is identical, whatever the load factors", () => {
    const p = plan(
      "factors: { gpus: [1, 2], users: [4, 8, 16], max_num_seqs: [64, 128], prompt_set: short }\n",
    );
    expect(p.groups).toHaveLength(4);
    for (const g of p.groups) expect(g.experimentIds).toHaveLength(3);
    expect(p.groups.map((g) => g.id)).toEqual([
      "g1-tp1-mns64",
      "g1-tp1-mns128",
      "g2-tp2-mns64",
      "g2-tp2-mns128",
    ]);
    expect(p.groups[1]?.argv).toEqual(expect.arrayContaining(["--max-num-seqs", "128"]));
    // Experiments run group by group, so each server starts once.
    expect(p.experiments.map((e) => e.groupId)).toEqual(
      p.groups.flatMap((g) => g.experimentIds.map(() => g.id)),
    );
  });

  it("fills vLLM command templates, boolean flags and CUDA_VISIBLE_DEVICES", () => {
    const p = plan(
      `factors: { gpus: [2], enable_chunked_prefill: [true, false], prompt_set: short }\n`,
      BASE.replace(
        "server: { kind: sim, model: tiny }",
        `server:
  kind: vllm
  model: tiny
  command: [vllm, serve, "{model}", "--port={port}", -tp, "{tp}", "{enable_chunked_prefill:flag}"]`,
      ),
    );
    expect(p.groups.map((g) => g.argv)).toEqual([
      ["vllm", "serve", "tiny", "--port=8000", "-tp", "2", "--enable-chunked-prefill"],
      ["vllm", "serve", "tiny", "--port=8000", "-tp", "2", "--no-enable-chunked-prefill"],
    ]);
    expect(p.groups[0]?.env.CUDA_VISIBLE_DEVICES).toBe("0,1");
  });

  it("leaves the port and the API key to run time, and masks the key", () => {
    const p = plan(
      "factors: { gpus: 1, prompt_set: short }\n",
      BASE.replace("model: tiny }", "model: tiny, port: auto }").replace(
        "duration: 2s",
        "duration: 2s, api_key_env: MY_KEY",
      ),
    );
    const group = p.groups[0];
    if (!group) throw new Error("no group");
    expect(group.argv).toContain("{port}");
    // The default simulator command never carries the key: it travels as VLLM_API_KEY.
    expect(group.argv).not.toContain("--api-key");
    const withKey = { ...group, argv: [...group.argv, "--api-key", "{api_key}"] };
    const { argv, masked } = runtimeArgv(withKey, { port: 43210, apiKey: "s3cret" });
    expect(argv).toEqual(expect.arrayContaining(["43210", "s3cret"]));
    expect(masked).toEqual(expect.arrayContaining(["43210", "***"]));
    expect(masked.join(" ")).not.toContain("s3cret");
  });

  it("estimates wall time from warm-up, duration and server starts", () => {
    const p = plan("factors: { gpus: [1, 2], users: [4, 8], prompt_set: short }\n");
    expect(p.estimate.loadMs).toBe(4 * 3_000);
    expect(p.estimate.serverStartMs).toBe(2 * 60_000);
    expect(p.estimate.totalMs).toBe(4 * 3_000 + 2 * 60_000);
  });

  it("refuses a matrix whose every combination is excluded", () => {
    expect(() => plan("factors: { gpus: 1, prompt_set: short }\nexclude: [{ gpus: 1 }]\n")).toThrow(
      ConfigError,
    );
  });
});

describe("the shipped matrix", () => {
  it("expands to GPUs 1, 2, 4, 8 × two load levels × 3 repeats on the simulator", async () => {
    const p = await loadPlan(join(ROOT, "config/experiment_matrix.yaml"));
    expect(p.matrix.server.kind).toBe("sim");
    expect(p.experiments).toHaveLength(24);
    expect(p.groups.map((g) => g.gpus)).toEqual([1, 2, 4, 8]);
    // Repeats at every GPU count: the CI on s resamples runs (docs/statistics.md).
    expect(new Set(p.experiments.map((e) => e.repeat))).toEqual(new Set([1, 2, 3]));
    expect(new Set(p.experiments.map((e) => e.promptSet.name))).toEqual(new Set(["medium"]));
    // About three minutes on a laptop.
    expect(p.estimate.totalMs).toBeLessThan(4 * 60_000);
  });

  it("the example vLLM matrix is valid too", async () => {
    const p = await loadPlan(join(ROOT, "config/examples/vllm_tp_scaling.yaml"));
    expect(p.matrix.server.kind).toBe("vllm");
    expect(p.groups.every((g) => g.argv[0] === "vllm")).toBe(true);
  });
  // `vscale plan`'s output on it is held byte for byte by plan-golden.test.ts.
});
