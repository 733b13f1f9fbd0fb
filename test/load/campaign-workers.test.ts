/**
 * The runner's side of workers and the guard, end to end: `vscale campaign`
 * with `load.workers: 2` against the simulator writes the guard into
 * experiment.json, and the summary carries it (read back with DuckDB).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExperimentInfoSchema } from "../../formats/raw-layout.ts";
import { readParquetRows } from "../aggregate/duckdb-read.ts";
import { type CliRun, runCli, tempDir, writeMatrix } from "../campaign/helpers.ts";

const MATRIX = `
campaign: workers
seed: 2
server:
  kind: sim
  model: w-model
  port: auto
  health_timeout: 30s
  args: [--sim-time-scale, "4"]
load:
  mode: closed
  users: 6
  workers: 2
  duration: 1500ms
  max_tokens: 6
prompts:
  short: { tokens: { dist: fixed, mean: 12 }, count: 8 }
`;

let dir: Awaited<ReturnType<typeof tempDir>>;
let run: CliRun;
beforeAll(async () => {
  dir = await tempDir("workers");
  run = await runCli([
    "campaign",
    await writeMatrix(dir.path, MATRIX),
    "--results",
    join(dir.path, "r"),
  ]);
}, 120_000);
afterAll(() => dir.remove());

describe("a campaign on two load workers", () => {
  it("records the guard in experiment.json and the summary", async () => {
    expect(run.code, run.stderr).toBe(0);
    const expDir = join(dir.path, "r", "raw", "workers", "g1-tp1-r1");
    const info = ExperimentInfoSchema.parse(
      JSON.parse(await readFile(join(expDir, "experiment.json"), "utf8")),
    );
    expect(info.load.workers).toBe(2);
    expect(info.client?.workers).toBe(2);
    expect(info.client?.per_worker).toHaveLength(2);
    expect(info.client?.cpu_pct).not.toBeNull();
    const [row] = await readParquetRows(join(dir.path, "r", "agg", "summary.parquet"));
    expect(Number(row?.client_workers)).toBe(2);
    expect(row?.client_limited).toBe(info.client?.limited);
    expect(row?.client_cpu_pct).toBeCloseTo(info.client?.cpu_pct ?? Number.NaN, 6);
    // Every user ran, whichever worker had it.
    const records = (await readFile(join(expDir, "requests.ndjson"), "utf8"))
      .split("\n")
      .filter(Boolean);
    const users = new Set(
      records.map((l) => (JSON.parse(l) as { request_id: string }).request_id.split("-")[0]),
    );
    expect(users.size).toBe(6);
  });
});
