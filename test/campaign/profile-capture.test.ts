/**
 * `load.profile` end to end on the simulator: each experiment gets its torch
 * trace slice in `profiles/`; a server that ran one experiment hands it its whole
 * profilemate session and step CSV; one that ran two cuts its session per window.
 * Aggregation keys every profile table by experiment (read back with DuckDB).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sliceCsv } from "../../campaign/profile-capture.ts";
import {
  PROFILES_DIR,
  PROFILES_STAGING_DIR,
  ProfileCoverSchema,
} from "../../formats/raw-layout.ts";
import { duckQuery } from "../aggregate/duckdb-read.ts";
import { type CliRun, readJson, runCli, tempDir, writeMatrix } from "./helpers.ts";

const MATRIX = `
campaign: prof
seed: 3
server:
  kind: sim
  model: prof-model
  port: auto
  health_timeout: 30s
  start_estimate: 1s
  args: [--sim-time-scale, "20"]
load:
  engine: node
  mode: closed
  warmup: 500ms
  duration: 2500ms
  workers: 1
  max_tokens: 8
  timeout: 10s
  profile: { at: 500ms, for: 1s }
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
  users: [2, 4]
include:
  - { gpus: 2, users: 4 }
`;

const SHARED = ["g1-tp1-u2-r1", "g1-tp1-u4-r1"];
const ALONE = "g2-tp2-u4-r1";

let dir: Awaited<ReturnType<typeof tempDir>>;
let results: string;
let run: CliRun;

beforeAll(async () => {
  dir = await tempDir("prof");
  const matrix = await writeMatrix(dir.path, MATRIX);
  results = join(dir.path, "results");
  run = await runCli(["campaign", matrix, "--results", results]);
}, 90_000);

afterAll(async () => {
  await dir.remove();
});

describe("campaign server profiles (load.profile)", () => {
  it("puts each experiment's profiles in its profiles/ folder", async () => {
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("profiles:");
    const campaignDir = join(results, "raw", "prof");
    for (const id of [...SHARED, ALONE]) {
      const files = await readdir(join(campaignDir, id, PROFILES_DIR));
      expect(files.filter((f) => f.endsWith(".pt.trace.json.gz"))).toHaveLength(1);
      expect(files.filter((f) => f.startsWith("session_"))).toHaveLength(1);
    }
    // Alone on its server: the whole session (summaries too) and the step CSV.
    const alone = await readdir(join(campaignDir, ALONE, PROFILES_DIR));
    expect(alone.filter((f) => f.startsWith("execution_stats_"))).toHaveLength(1);
    const session = alone.find((f) => f.startsWith("session_")) as string;
    expect(await readdir(join(campaignDir, ALONE, PROFILES_DIR, session))).toContain(
      "forward_pass_summary.json",
    );
    // Shared: the whole session stays with the server, covers.json naming both experiments.
    const [server] = await readdir(join(campaignDir, PROFILES_STAGING_DIR, "g1-tp1"));
    const cover = ProfileCoverSchema.parse(
      await readJson(
        join(campaignDir, PROFILES_STAGING_DIR, "g1-tp1", server as string, "covers.json"),
      ),
    );
    expect(cover.experiments.map((e) => e.experiment_id)).toEqual(SHARED);
  });

  it("cuts a shared session to each experiment's window", async () => {
    const campaignDir = join(results, "raw", "prof");
    for (const id of SHARED) {
      const profiles = join(campaignDir, id, PROFILES_DIR);
      const session = (await readdir(profiles)).find((f) => f.startsWith("session_")) as string;
      const meta = (await readJson(join(profiles, session, "metadata.json"))) as {
        start_time: number;
        vscale_slice: { experiment_id: string; window_start_us: number; window_end_us: number };
      };
      expect(meta.vscale_slice.experiment_id).toBe(id);
      const text = await readFile(join(profiles, session, "forward_pass_timing.csv"), "utf8");
      const rows = text.trim().split("\n").slice(1);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        const us = (meta.start_time + Number(row.split(",")[0])) * 1e6;
        expect(us).toBeGreaterThanOrEqual(meta.vscale_slice.window_start_us);
        expect(us).toBeLessThan(meta.vscale_slice.window_end_us);
      }
    }
  });

  it("aggregates the profile tables keyed by campaign and experiment", async () => {
    const agg = join(results, "agg");
    const kernels = await duckQuery(
      `SELECT experiment_id, count(DISTINCT name)::INT AS kernels, min(campaign) AS campaign
       FROM '${join(agg, "kernels.parquet")}' GROUP BY experiment_id ORDER BY experiment_id`,
    );
    expect(kernels.map((r) => r.experiment_id)).toEqual([...SHARED, ALONE].sort());
    expect(kernels.every((r) => r.campaign === "prof")).toBe(true);
    // TP 1 has no all-reduce; TP 2 has.
    expect(kernels.map((r) => r.kernels)).toEqual([3, 3, 4]);
    const forward = await duckQuery(
      `SELECT experiment_id, count(*)::INT AS n FROM '${join(agg, "profilemate_forward_pass_timing.parquet")}'
       GROUP BY experiment_id ORDER BY experiment_id`,
    );
    expect(forward.map((r) => r.experiment_id)).toEqual([...SHARED, ALONE].sort());
    // The shared server's step CSV is cut per window by its timestamp_sec column.
    const steps = await duckQuery(
      `SELECT DISTINCT experiment_id FROM '${join(agg, "step_phases.parquet")}' ORDER BY 1`,
    );
    expect(steps.map((r) => r.experiment_id)).toEqual([...SHARED, ALONE].sort());
    // Sessions: the cuts name their experiment; only the whole one has summaries.
    const sessions = await duckQuery(
      `SELECT experiment_id, slice_experiment_id FROM '${join(agg, "profilemate_sessions.parquet")}' ORDER BY experiment_id`,
    );
    expect(sessions).toEqual([
      ...SHARED.map((id) => ({ experiment_id: id, slice_experiment_id: id })),
      { experiment_id: ALONE, slice_experiment_id: null },
    ]);
    const summaries = await duckQuery(
      `SELECT DISTINCT experiment_id, kind FROM '${join(agg, "profilemate_summaries.parquet")}' ORDER BY kind`,
    );
    expect(summaries.every((r) => r.experiment_id === ALONE)).toBe(true);
    expect(summaries.map((r) => r.kind)).toEqual([
      "batch_utilization",
      "cpu_timing",
      "forward_pass",
      "preemption",
    ]);
  });
});

describe("sliceCsv", () => {
  it("keeps rows whose start_time + timestamp falls in [from, to), by the time column the header names", () => {
    const text = "request_id,started_sec,finished_sec\na,1.0,2\nb,2.5,3\nc,,\nd,3.0,4\n";
    // start 100 s: rows at 101, 102.5 and 103 s; window [101.5 s, 103 s).
    expect(sliceCsv(text, 100, 101.5e6, 103e6)).toBe(
      "request_id,started_sec,finished_sec\nb,2.5,3\n",
    );
    expect(sliceCsv("runtime_mode,num_tokens\nx,1\n", 0, 0, 1)).toBeNull();
  });
});

describe("load.profile at plan time", () => {
  it("a slice ending after the window exits 2 naming load.profile.for", async () => {
    const d = await tempDir("prof-bad");
    try {
      const matrix = await writeMatrix(
        d.path,
        MATRIX.replace("profile: { at: 500ms, for: 1s }", "profile: { at: 2s, for: 1s }"),
      );
      const bad = await runCli(["campaign", matrix, "--results", join(d.path, "r"), "--dry-run"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/matrix\.yaml:\d+:\d+.*load\.profile\.for/s);
      expect(bad.stderr).toContain("ends at 3 s, after the 2.5 s window");
    } finally {
      await d.remove();
    }
  });
});
