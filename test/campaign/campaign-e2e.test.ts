/**
 * The main job end to end, as a user runs it: `vscale campaign` on a reduced
 * matrix (GPUs 1, 2, 4 × one prompt set) against the simulator, real
 * processes and sockets, then aggregation, fits and the report. The fitted
 * serial fraction must come back within 0.03 of the simulator's planted one.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExperimentInfoSchema,
  GPU_QUERY_FIELDS,
  MetricSampleSchema,
  RAW_FILES,
  StatusSchema,
} from "../../formats/raw-layout.ts";
import { RequestRecordSchema } from "../../formats/request-record.ts";
import { ServerRecordSchema } from "../../formats/server-record.ts";
import {
  type CliRun,
  fakeNvidiaSmiDir,
  pidAlive,
  readJson,
  runCli,
  tempDir,
  writeMatrix,
} from "./helpers.ts";

const PLANTED_S = 0.1;

// Slow simulated GPU (time scale 0.1: a decode step of ~72 ms on one GPU), few
// users and one load worker keep the harness's own CPU use and timer jitter
// small next to the modelled step times (CI runs other test files beside this
// one on its two cores), so the measured scaling is the planted law, not our CPU.
const MATRIX = `
campaign: e2e
seed: 7
server:
  kind: sim
  model: e2e-model
  port: auto
  health_timeout: 30s
  start_estimate: 1s
  args: [--sim-serial-fraction, "${PLANTED_S}", --sim-time-scale, "0.1"]
load:
  engine: node
  mode: closed
  spawn_rate: 16
  warmup: 1s
  duration: 4s
  workers: 1
  max_tokens: 8
  timeout: 10s
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1, 2, 4]
  users: [8]
`;

const IDS = ["g1-tp1-u8-r1", "g2-tp2-u8-r1", "g4-tp4-u8-r1"];

let dir: Awaited<ReturnType<typeof tempDir>>;
let results: string;
let run: CliRun;

async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  dir = await tempDir("e2e");
  const matrix = await writeMatrix(dir.path, MATRIX);
  results = join(dir.path, "results");
  const bin = await fakeNvidiaSmiDir(await tempDir("e2e-bin").then((d) => d.path));
  run = await runCli(["campaign", matrix, "--results", results], {
    ...process.env,
    PATH: `${bin}${delimiter}${process.env.PATH}`,
  });
}, 120_000);

afterAll(async () => {
  await dir.remove();
});

describe("vscale campaign, end to end", () => {
  it("exits 0 and prints each experiment, the fitted s and where the report is", () => {
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    for (const id of IDS) expect(run.stdout).toMatch(new RegExp(`\\] ${id}  ok`));
    // One run per GPU count: no interval is invented from the fit's residuals.
    expect(run.stdout).toMatch(/s = 0\.\d{4}\s+no CI \(no repeats: run repeats ≥ 2/);
    expect(run.stdout).toContain(`report: ${join(results, "report.html")}`);
  });

  it("writes every raw file, each parsing against its schema", async () => {
    const campaignDir = join(results, "raw", "e2e");
    expect((await readdir(campaignDir)).sort()).toEqual(["_servers", ...IDS]);
    for (const id of IDS) {
      const d = join(campaignDir, id);
      const info = ExperimentInfoSchema.parse(await readJson(join(d, RAW_FILES.experiment)));
      expect(info.factors.gpus).toBe(Number(id[1]));
      expect(info.server.version).not.toBeNull();
      expect(info.gpus?.length).toBe(2); // the fake nvidia-smi's inventory
      expect(info.times.window_end_us).toBeGreaterThan(info.times.window_start_us ?? 0);
      const status = StatusSchema.parse(await readJson(join(d, RAW_FILES.status)));
      expect(status.status).toBe("ok");

      const records = (await readFile(join(d, RAW_FILES.requests), "utf8")).trim().split("\n");
      expect(records).toHaveLength(status.requests);
      for (const line of records) RequestRecordSchema.parse(JSON.parse(line));

      const gpu = (await readFile(join(d, RAW_FILES.gpu), "utf8")).split("\n");
      expect(gpu[0]?.split(",")).toHaveLength(GPU_QUERY_FIELDS.length);
      for (const f of [RAW_FILES.metricsBefore, RAW_FILES.metricsAfter]) {
        expect(await readFile(join(d, f), "utf8")).toContain("vllm:num_requests_running");
      }
      const samples = (await readFile(join(d, RAW_FILES.metricsSamples), "utf8"))
        .trim()
        .split("\n");
      const metrics = new Set(samples.map((l) => MetricSampleSchema.parse(JSON.parse(l)).metric));
      expect(metrics).toContain("vllm:num_requests_running");
      expect(metrics).toContain("vllm:kv_cache_usage_perc");
    }
  });

  it("stopped every server: each recorded pid is gone", async () => {
    const servers = join(results, "raw", "e2e", "_servers");
    const files = (await readdir(servers)).filter((f) => f.endsWith(".json"));
    expect(files.sort()).toEqual(["g1-tp1.json", "g2-tp2.json", "g4-tp4.json"]);
    for (const f of files) {
      const record = ServerRecordSchema.parse(await readJson(join(servers, f)));
      expect(record.starts).toHaveLength(1);
      const start = record.starts[0];
      expect(start?.reason).toBe("done");
      expect(start?.exit_code).toBe(0);
      expect(pidAlive(start?.pid as number)).toBe(false);
      expect(existsSync(join(servers, f.replace(".json", ".log")))).toBe(true);
    }
  });

  it("aggregates to a summary.parquet DuckDB reads, one ok row per experiment", async () => {
    const rows = await duckRows(
      `SELECT experiment_id, status, gpus, output_tokens_per_s FROM read_parquet('${join(results, "agg", "summary.parquet")}') ORDER BY gpus`,
    );
    expect(rows.map((r) => r.experiment_id)).toEqual(IDS);
    expect(rows.every((r) => r.status === "ok")).toBe(true);
    const x = rows.map((r) => Number(r.output_tokens_per_s));
    expect(x[1]).toBeGreaterThan(x[0] as number);
    expect(x[2]).toBeGreaterThan(x[1] as number);
  });

  it("fits s within 0.03 of the simulator's planted value", async () => {
    // DuckDB parses the CSV (quoted notes may hold commas).
    const fits = await duckRows(
      `SELECT status, s FROM read_csv('${join(results, "agg", "amdahl_fit.csv")}', header = true)`,
    );
    expect(fits).toHaveLength(1);
    expect(fits[0]?.status).toBe("fitted");
    const s = Number(fits[0]?.s);
    expect(Math.abs(s - PLANTED_S)).toBeLessThanOrEqual(0.03);
    const html = await readFile(join(results, "report.html"), "utf8");
    expect(html).toContain("<svg");
  });

  it("a re-run skips every finished experiment and starts no server", async () => {
    const again = await runCli([
      "campaign",
      join(dir.path, "matrix.yaml"),
      "--results",
      results,
      "--no-analyze",
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("0 ok, 0 failed, 0 interrupted; skipped 3 already ok");
    expect(again.stdout).not.toContain("starting");
  });
});
