/**
 * GPU figures cover the GPUs an experiment's server was given (issue 11,
 * item 3), checked with the shared 2-GPU nvidia-smi capture: a 1-GPU vllm
 * experiment on GPU 1 averages GPU 1's samples only.
 */
import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseGpuInventory } from "../../campaign/gpu-sampler.ts";
import { gpusInUse } from "../../campaign/gpus-in-use.ts";
import { ExperimentInfoSchema, RAW_FILES } from "../../formats/raw-layout.ts";
import { readParquetRows } from "../aggregate/duckdb-read.ts";
import { BIN } from "../helpers/vscale-cli.ts";
import { FIXTURES, fakeNvidiaSmiDir, readJson, runCli, tempDir, writeMatrix } from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("gpus");
});
afterEach(async () => {
  await dir.remove();
});

const inventory = async () =>
  parseGpuInventory(await readFile(join(FIXTURES, "query-gpu-inventory-noheader.csv"), "utf8"));

describe("gpusInUse", () => {
  it("reads CUDA_VISIBLE_DEVICES as indices or GPU UUIDs, and says when it cannot", async () => {
    const gpus = await inventory();
    const vllm = (cudaVisibleDevices: string | undefined) =>
      gpusInUse({ kind: "vllm", cudaVisibleDevices, configured: undefined, inventory: gpus });
    expect(vllm("1")).toEqual({ indices: [1], source: "CUDA_VISIBLE_DEVICES", note: null });
    expect(vllm("GPU-0a829aa6,0").indices).toEqual([0, 1]);
    expect(vllm("MIG-1234").indices).toBeNull();
    expect(vllm("MIG-1234").note).toContain('"MIG-1234" names no single GPU');
    expect(vllm(undefined).source).toBe("host-wide");
  });

  it("takes server.gpu_indices for external servers; the simulator is host-wide", () => {
    const external = gpusInUse({
      kind: "external",
      cudaVisibleDevices: undefined,
      configured: [3, 2],
      inventory: null,
    });
    expect(external).toEqual({ indices: [2, 3], source: "server.gpu_indices", note: null });
    const sim = gpusInUse({
      kind: "sim",
      cudaVisibleDevices: "0",
      configured: [0],
      inventory: null,
    });
    expect(sim.indices).toBeNull();
    expect(sim.note).toContain("GPU figures are host-wide");
  });
});

describe("a campaign on GPU 1 of a 2-GPU host", () => {
  it("records GPU 1 in experiment.json and averages only its samples", async () => {
    const fake = await fakeNvidiaSmiDir(join(dir.path));
    const file = await writeMatrix(
      dir.path,
      `
campaign: gpu1
server:
  kind: vllm
  model: gpu-model
  port: auto
  health_timeout: 30s
  command: ["${process.execPath}", "${BIN}", sim, serve, "{model}", --port, "{port}", -tp, "{tp}", --api-key, "{api_key}"]
  env: { CUDA_VISIBLE_DEVICES: "1" }
load: { engine: node, mode: closed, users: 2, duration: 1500ms, max_tokens: 8, api_key_env: GPU_TEST_KEY }
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
`,
    );
    const results = join(dir.path, "results");
    const env = {
      ...process.env,
      PATH: `${fake}${delimiter}${process.env.PATH ?? ""}`,
      GPU_TEST_KEY: "gpu-test-key",
    };
    const run = await runCli(["campaign", file, "--results", results], env);
    expect(run.code).toBe(0);
    // A command written with {api_key} still works, and is told the flag can go.
    expect(run.stdout).toContain("the command passes {api_key}, which `ps` shows");
    const info = ExperimentInfoSchema.parse(
      await readJson(join(results, "raw", "gpu1", "g1-tp1-r1", RAW_FILES.experiment)),
    );
    expect(info.gpus?.map((g) => g.index)).toEqual([0, 1]);
    expect(info.gpus_in_use).toEqual({ indices: [1], source: "CUDA_VISIBLE_DEVICES", note: null });

    // Expected straight from the capture the fake replays (its rows 2–5): GPU 1's power only.
    const rows = (await readFile(join(FIXTURES, "query-gpu-loop-load.csv"), "utf8"))
      .split("\n")
      .slice(1, 5)
      .map((l) => l.split(",").map((c) => c.trim()));
    const power = (index: string) => rows.filter((r) => r[1] === index).map((r) => Number(r[6]));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [summary] = await readParquetRows(join(results, "agg", "summary.parquet"));
    expect(summary?.gpu_power_w_mean).toBeCloseTo(mean(power("1")), 6);
    expect(summary?.gpu_power_w_mean).not.toBeCloseTo(mean([...power("0"), ...power("1")]), 3);
  });
});
