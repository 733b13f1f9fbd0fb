/**
 * `vscale plan --sweep`: the generated C × M × B × block_size matrix is one
 * `vscale plan` accepts, with one experiment per combination and the factors
 * on the simulator's command line.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tempDir } from "../campaign/helpers.ts";
import { runCli } from "../helpers/vscale-cli.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  dir = await tempDir("sweep");
});

afterAll(async () => {
  await dir.remove();
});

describe("vscale plan --sweep", () => {
  it("writes a matrix that plans to every combination", async () => {
    const file = join(dir.path, "sweep.yaml");
    const args = ["--c", "256,1024", "--m", "2048,4096", "--b", "16,64", "--block-size", "8,16"];
    const run = await runCli(["plan", "--sweep", file, "--json", ...args]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const matrix = parse(await readFile(file, "utf8"));
    expect(matrix.prompts.c1024.tokens).toEqual({ dist: "fixed", mean: 1024 });
    expect(matrix.load.profile).toBeDefined();
    const again = await runCli(["plan", file, "--json"]);
    expect(again.code).toBe(0);
    const plan = JSON.parse(again.stdout);
    expect(plan.counts.experiments).toBe(16);
    const combos = new Set(
      plan.experiments.map(
        (e: { factors: Record<string, unknown>; prompt_set: string }) =>
          `${e.prompt_set}/${e.factors.num_gpu_blocks}/${e.factors.max_num_seqs}/${e.factors.block_size}`,
      ),
    );
    expect(combos.size).toBe(16);
    const argv = plan.groups.map((g: { argv: string[] }) => g.argv.join(" ")).join("\n");
    expect(argv).toContain("--num-gpu-blocks-override 4096");
    expect(argv).toContain("--max-num-seqs 64");
    expect(argv).toContain("--block-size 8");
  });

  it("refuses a bad range with one line and exit 2", async () => {
    const run = await runCli(["plan", "--sweep", join(dir.path, "bad.yaml"), "--b", "16,x"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("--b");
  });
});
