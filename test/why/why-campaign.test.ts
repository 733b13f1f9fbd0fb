/**
 * The "why" analysis end to end on the simulator: one campaign, GPUs 1, 2, 4
 * with load.profile (planted s = 0.08), one scarce-KV experiment and one with
 * a tiny token budget. The server-side serial fraction from the step timings
 * and the fitted s must both agree with the planted value; the scarce-KV run
 * is classed `memory`, the tiny budget `scheduling`, the saturated ones
 * `compute`; the recommendations choose among server configurations per
 * workload (users is the context, never the choice); the
 * report shows both sections.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { duckQuery } from "../aggregate/duckdb-read.ts";
import { expectPlantedClass, plantedCampaign, simServer } from "./planted-campaign.ts";

const PLANTED_S = 0.08;
/** The all-reduce term and step jitter lift both estimates a little above the planted s. */
const TOLERANCE = 0.04;

const MATRIX = `
campaign: why
seed: 5
${simServer("--sim-serial-fraction", String(PLANTED_S), "--sim-time-scale", "0.1")}
load:
  engine: node
  mode: closed
  spawn_rate: 16
  warmup: 1s
  # 5 s: the 8-user runs must hold the 100 requests an e2e p99 needs (the recommendations rank by it).
  duration: 5s
  workers: 1
  max_tokens: 8
  timeout: 10s
  profile: { at: 0s, for: 3s }
slo: { e2e_ms_p99: 60000 }
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1, 2, 4]
  users: [8]
include:
  - { gpus: 1, users: 8, num_gpu_blocks: 4, max_model_len: 64 }
  - { gpus: 1, users: 16, max_num_batched_tokens: 16, max_num_seqs: 16, max_model_len: 64 }
`;

const campaign = plantedCampaign("why", MATRIX, { timeoutMs: 90_000 });

/** A CSV the analysis wrote, parsed by DuckDB. */
const csvRows = (file: string) =>
  duckQuery(`SELECT * FROM read_csv('${join(campaign.results, "agg", file)}', header = true)`);

describe("why not linear (planted campaign)", () => {
  it("classes each experiment from its measured signals", async () => {
    expect(campaign.run.code).toBe(0);
    const byId = await campaign.summary();
    const rows = Object.values(byId);
    const scarce = rows.find((r) => String(r.experiment_id).includes("kv4"));
    expectPlantedClass(scarce, "memory");
    expect(String(scarce?.bottleneck_evidence)).toMatch(/server_preemptions|kv_cache_usage_max/);
    // A 16-token budget: requests wait while the KV cache has room and every step is full.
    const budget = rows.find((r) => String(r.experiment_id).includes("mbt16"));
    expectPlantedClass(budget, "scheduling");
    expect(String(budget?.bottleneck_evidence)).toContain("batch_tokens/max_num_batched_tokens=");
    for (const id of ["g1-tp1-u8-r1", "g2-tp2-u8-r1", "g4-tp4-u8-r1"]) {
      expectPlantedClass(byId[id], "compute");
      expect(String(byId[id]?.bottleneck_evidence)).toContain("execute_share=");
    }
  });

  it("finds the planted s on the server side and in the fit", async () => {
    const [group] = (await csvRows("why.csv")).filter((r) => r.s_server !== null);
    expect(group).toBeDefined();
    const g = group as Record<string, number>;
    expect(Math.abs(g.s_server! - PLANTED_S)).toBeLessThan(TOLERANCE);
    expect(Math.abs(g.s_fit! - PLANTED_S)).toBeLessThan(TOLERANCE);
    expect(g.s_server_low!).toBeLessThanOrEqual(g.s_server!);
    expect(g.s_server_high!).toBeGreaterThanOrEqual(g.s_server!);
    expect(g.comparisons).toBeGreaterThan(1);
    const points = (await csvRows("why_points.csv")).filter((p) => p.group === group?.group);
    expect(points.map((p) => Number(p.n))).toEqual([1, 2, 4]);
    for (const p of points) expect(Number(p.steps)).toBeGreaterThan(0);
  });

  it("recommends a server configuration per workload and goal, never a load level", async () => {
    const summary = await duckQuery(
      `SELECT experiment_id, users, output_tokens_per_s AS x, e2e_ms_p99 AS p99, coalesce(client_limited, false) AS limited FROM '${join(campaign.results, "agg", "summary.parquet")}' WHERE status = 'ok'`,
    );
    const rows = await csvRows("recommendations.csv");
    // users is the workload: each level is a context, and no choice names it.
    expect([...new Set(rows.map((r) => r.context))].sort()).toEqual(
      [...new Set(summary.map((r) => `users=${r.users}`))].sort(),
    );
    for (const r of rows) expect(String(r.config ?? "")).not.toMatch(/users=/);
    const at8 = Object.fromEntries(
      rows.filter((r) => r.context === "users=8").map((r) => [r.goal, r]),
    );
    expect(Object.keys(at8).sort()).toEqual([
      "balanced",
      "cache",
      "latency",
      "memory",
      "throughput",
      "throughput_per_gpu",
    ]);
    // One run per configuration: the highest throughput leads, but nothing is called best.
    const usable = summary
      .filter(
        (r) =>
          Number(r.users) === 8 &&
          !r.limited &&
          r.x !== null &&
          r.p99 !== null &&
          Number(r.p99) <= 60000,
      )
      .sort((a, b) => Number(b.x) - Number(a.x));
    // The client guard may trip under CPU contention and leave one configuration, or none.
    expect(at8.throughput?.experiments ?? undefined).toBe(usable[0]?.experiment_id);
    expect(at8.throughput?.verdict).toBe(
      usable.length === 0 ? null : usable.length === 1 ? "only" : "unreplicated",
    );
    if (usable.length > 1) expect(String(at8.throughput?.sentence)).toMatch(/repeat to tell/);
    if (usable.length > 0) expect(at8.throughput?.pareto).toBe(true);
  });

  it("shows the sections in the report", async () => {
    const html = await readFile(join(campaign.results, "report.html"), "utf8");
    expect(html).toContain("<h2>Why not linear</h2>");
    expect(html).toContain("<h2>Recommendations</h2>");
    expect(html).toContain("server-side s =");
    expect(html).toMatch(/<td>(compute|client)<\/td>/);
  });
});
