/**
 * Capacity bounds through the real pipeline: raw open-loop experiments in the
 * runner's layout, aggregated into summary.parquet, then `vscale capacity`
 * and `vscale fit --metric capacity`. Planted latency: each GPU serves
 * μ = 5 req/s, TTFT = 1000 / (5N − λ) ms (at most 2 s), so at TTFT p50 ≤ 500 ms the
 * capacity is 5N − 2. Where the highest rate measured is below it, every rate
 * meets the SLO: the capacity is only a lower bound, labelled so, and the fit
 * leaves it out by name (or refuses the group when too few points remain).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { duckQuery } from "../aggregate/duckdb-read.ts";
import {
  syntheticInfo,
  syntheticRequest,
  T0_US,
  writeSyntheticExperiment,
} from "../aggregate/synthetic-campaign.ts";
import { type CliRun, runCli, tempDir } from "../campaign/helpers.ts";

const MU = 5;
const ttftMs = (gpus: number, rate: number) =>
  rate < MU * gpus ? Math.min(1000 / (MU * gpus - rate), 2000) : 2000;
/** Enough requests that every percentile the summary prints has its sample. */
const REQUESTS = 120;
const WINDOW_US = 10_000_000;

/** prompt_set `wide` reaches 32 req/s (g8's capacity, 38, is past it); `narrow` stops at 16 (g4's 18 too). */
const PLAN = [
  { promptSet: "wide", gpus: [1, 2, 4, 8], rates: [2, 4, 8, 16, 32] },
  { promptSet: "narrow", gpus: [1, 2, 4], rates: [2, 4, 8, 16] },
];

let dir: Awaited<ReturnType<typeof tempDir>>;
let capacity: CliRun;
let fit: CliRun;

beforeAll(async () => {
  dir = await tempDir("capacity-bounds");
  for (const { promptSet, gpus, rates } of PLAN) {
    for (const n of gpus) {
      for (const rate of rates) {
        const id = `${promptSet}-g${n}-rate${rate}-r1`;
        const base = syntheticInfo({
          experimentId: id,
          factors: { gpus: n, tp: n, dp: 1, rate, prompt_set: promptSet },
        });
        const info = { ...base, load: { ...base.load, mode: "open" as const, users: null, rate } };
        const ttft = ttftMs(n, rate);
        const requests = Array.from({ length: REQUESTS }, (_, i) => {
          const start = T0_US + Math.floor((i * WINDOW_US) / (2 * REQUESTS));
          return syntheticRequest({
            experiment_id: id,
            request_id: `r-${i}`,
            prompt_set: promptSet,
            start_us: start,
            end_us: start + Math.round(1000 * (ttft + 100)),
            ttft_ms: ttft,
            e2e_ms: ttft + 100,
          });
        });
        await writeSyntheticExperiment(dir.path, { info, requests });
      }
    }
  }
  await aggregate({ resultsDir: dir.path, log: () => {} });
  const slo = ["--slo", "ttft_ms_p50=500"];
  capacity = await runCli(["capacity", "--results", dir.path, ...slo]);
  fit = await runCli(["fit", "--results", dir.path, "--metric", "capacity", ...slo]);
}, 60_000);
afterAll(() => dir.remove());

/** A CSV the stage wrote, parsed by DuckDB (values as text; empty cells null). */
const csv = (file: string) =>
  duckQuery(
    `SELECT * FROM read_csv('${join(dir.path, "agg", file)}', header = true, all_varchar = true)`,
  ) as Promise<Record<string, string | null>[]>;

describe("capacity bounds", () => {
  it("labels a capacity that every rate met as a lower bound, not an estimate", async () => {
    expect(capacity.code, capacity.stderr).toBe(0);
    const rows = await csv("capacity.csv");
    const row = (set: string, gpus: number) =>
      rows.find((r) => r.group?.includes(`prompt_set=${set}`) && Number(r.gpus) === gpus);
    // Crossed between two measured rates: an estimate near 5N − 2, no bound.
    for (const [set, n] of [
      ["wide", 1],
      ["wide", 2],
      ["wide", 4],
      ["narrow", 2],
    ] as const) {
      expect(row(set, n)?.bound, `${set} g${n}`).toBeNull();
      expect(Math.abs(Number(row(set, n)?.capacity_rps) / (MU * n - 2) - 1)).toBeLessThan(0.25);
    }
    expect(row("wide", 8)).toMatchObject({ bound: "lower", capacity_rps: "32" });
    expect(row("narrow", 4)).toMatchObject({ bound: "lower", capacity_rps: "16" });
    expect(capacity.stdout).toMatch(/g8: ≥ 32\.00 req\/s \(every rate met the SLO; 1 repeat\)/);
    expect(capacity.stdout).not.toMatch(/g8: .*interpolated/);
  });

  it("fits leave the bound out by name, and refuse a group left with too few GPU counts", async () => {
    expect(fit.code, fit.stderr).toBe(0);
    const fits = await csv("amdahl_fit.csv");
    const wide = fits.find((f) => f.group?.includes("prompt_set=wide"));
    const narrow = fits.find((f) => f.group?.includes("prompt_set=narrow"));
    // wide: fitted on g1, g2, g4 only, with a note naming g8's bound.
    expect(wide?.status).toBe("fitted");
    expect(Number(wide?.n_points)).toBe(3);
    expect(wide?.reason).toContain("capacity g8 r1");
    expect(fit.stdout).toMatch(
      /1 capacity bound\(s\) left out of the fit: capacity g8 r1 \([^)]*prompt_set=wide[^)]*\): ≥ 32\.00 req\/s \(every rate met the SLO\)/,
    );
    // narrow: g4 is a bound, so two GPU counts remain: not fitted, and the reason says why.
    expect(narrow?.status).toBe("skipped");
    expect(narrow?.reason).toContain("capacity g4 r1");
    expect(fit.stdout).toMatch(
      /prompt_set=narrow[^\n]*: 2 distinct GPU count\(s\) \(1, 2\); need ≥ 3; 1 capacity bound\(s\) left out of the fit: capacity g4 r1/,
    );
  });
});
