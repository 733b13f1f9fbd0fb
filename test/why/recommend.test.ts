/**
 * Recommendations from aggregation's real summary: a raw campaign in the
 * runner's layout with a load factor (users 8, 32, 64) and a server factor
 * (gpus 1, 2), three runs each at users 8 and 32, one at users 64. Planted:
 * at users 8 both GPU counts finish the same requests (a tie) and 2 GPUs hit
 * the prefix cache more; at users 32, 2 GPUs give 1.6× the throughput but 0.8×
 * per GPU; at users 64 a 4-GPU run the load client limited is no candidate.
 * The highest throughput of all is a users level, which the old
 * ranking named; the workload must be the context, never the choice, and
 * "best" must need a lead beyond run-to-run noise.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { readSummary, type Summary } from "../../analysis/fit/summary.ts";
import { recommendationsHtml } from "../../analysis/report/why-section.ts";
import { type Recommendation, recommend } from "../../analysis/why/recommend.ts";
import { writeRecommendations } from "../../analysis/why/why-table.ts";
import { FACTOR_NAMES, FACTORS } from "../../config/factors.ts";
import { RECOMMENDATION_COLUMNS } from "../../formats/why-tables.ts";
import {
  generatedRequests,
  syntheticInfo,
  vllmMetricsText,
  writeSyntheticExperiment,
} from "../aggregate/synthetic-campaign.ts";

/** Requests finished in the 10 s window (mean 128 output tokens each) and prefix-cache hit rate. */
const PLAN = [
  { users: 8, gpus: 1, repeats: 3, requests: 200, hitRate: 0.4 },
  { users: 8, gpus: 2, repeats: 3, requests: 200, hitRate: 0.9 },
  { users: 32, gpus: 1, repeats: 3, requests: 300, hitRate: null },
  { users: 32, gpus: 2, repeats: 3, requests: 480, hitRate: null },
  { users: 64, gpus: 1, repeats: 1, requests: 200, hitRate: null },
  { users: 64, gpus: 2, repeats: 1, requests: 400, hitRate: null },
  // The most tokens/s of its workload, but the load client's guard tripped: it measured the client.
  { users: 64, gpus: 4, repeats: 1, requests: 900, hitRate: null, limited: true },
];

let dir: string;
let summary: Summary;
let recs: Recommendation[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-recommend-"));
  let seed = 11;
  for (const p of PLAN) {
    for (let repeat = 1; repeat <= p.repeats; repeat++) {
      const experimentId = `g${p.gpus}-tp${p.gpus}-u${p.users}-r${repeat}`;
      const queries = 10_000;
      const info = syntheticInfo({
        experimentId,
        repeat,
        factors: { gpus: p.gpus, tp: p.gpus, dp: 1, users: p.users },
      });
      const limited = "limited" in p && p.limited === true;
      await writeSyntheticExperiment(dir, {
        info: limited
          ? { ...info, client: { ...info.client!, limited: true, reasons: ["cpu_pct 97 > 90"] } }
          : info,
        requests: generatedRequests(experimentId, p.requests, seed++),
        ...(p.hitRate === null
          ? {}
          : {
              metricsBefore: vllmMetricsText({ prefixCacheQueries: 0, prefixCacheHits: 0 }),
              metricsAfter: vllmMetricsText({
                prefixCacheQueries: queries,
                prefixCacheHits: Math.round(queries * (p.hitRate + 0.01 * repeat)),
              }),
            }),
      });
    }
  }
  await aggregate({ resultsDir: dir });
  summary = await readSummary(dir);
  recs = await writeRecommendations(dir, summary);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const rec = (users: number, goal: string) =>
  recs.find((r) => r.context === `users=${users}` && r.goal === goal);

describe("recommendations: server configurations for a fixed workload", () => {
  it("never chooses a load level: the workload is the context", () => {
    const loadFactors = FACTOR_NAMES.filter((f) => FACTORS[f].role === "load");
    // The planted trap: the row with the highest throughput of all is a users level.
    const top = summary.rows
      .filter((r) => r.client_limited === false)
      .sort((a, b) => Number(b.output_tokens_per_s) - Number(a.output_tokens_per_s))[0];
    expect(top?.users).toBe(32);
    expect([...new Set(recs.map((r) => r.context))]).toEqual(["users=8", "users=32", "users=64"]);
    for (const r of recs) {
      for (const f of loadFactors) expect(r.config ?? "", r.sentence).not.toContain(`${f}=`);
      for (const f of loadFactors) expect(r.runner_up ?? "").not.toContain(`${f}=`);
      expect(r.sentence).toMatch(new RegExp(`^For ${r.context}, `));
    }
  });

  it("calls a lead beyond run-to-run noise best, with its interval and runs", () => {
    const x = rec(32, "throughput");
    expect(x).toMatchObject({
      verdict: "best",
      config: "gpus=2 tp=2",
      runs: 3,
      runner_up: "gpus=1 tp=1",
    });
    expect(x?.margin_low).toBeGreaterThan(0);
    expect(x?.margin_low ?? Number.NaN).toBeLessThan(0.6);
    expect(x?.margin_high ?? Number.NaN).toBeGreaterThan(0.6);
    expect(x?.sentence).toMatch(
      /^For users=32, throughput: best is gpus=2 tp=2 \([\d.]+ tok\/s, mean of 3 runs, sd [\d.]+\), ahead of gpus=1 tp=1 \(3 runs\) by \+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\] \(95% interval over 3 runs and 3 runs\)\.$/,
    );
    // Per GPU the single GPU leads (planted 1.25×).
    expect(rec(32, "throughput_per_gpu")).toMatchObject({ verdict: "best", config: "gpus=1 tp=1" });
    // The highest hit rate, measured in every run of both.
    expect(rec(8, "cache")).toMatchObject({ verdict: "best", config: "gpus=2 tp=2" });
    expect(rec(32, "cache")?.verdict).toBeNull();
  });

  it("says tied, not best, when the lead is within run-to-run noise", () => {
    const x = rec(8, "throughput");
    expect(x?.verdict).toBe("tied");
    expect(x?.margin_low ?? Number.NaN).toBeLessThan(0);
    expect(x?.margin_high ?? Number.NaN).toBeGreaterThan(0);
    expect(x?.sentence).toMatch(/are tied: its lead of .* is within run-to-run noise\.$/);
    expect(x?.sentence).not.toMatch(/best/);
  });

  it("chooses nothing from single runs: the noise is not measured", () => {
    const x = rec(64, "throughput");
    expect(x).toMatchObject({
      verdict: "unreplicated",
      config: "gpus=2 tp=2",
      runs: 1,
      configurations: 3,
      candidates: 2,
    });
    expect(x?.margin_low).toBeNull();
    expect(x?.sentence).toMatch(/one run on a side .* repeat to tell\.$/);
    expect(x?.sentence).not.toMatch(/best/);
  });

  it("writes recommendations.csv with the schema's columns, and the report says each sentence", async () => {
    const header = (await readFile(join(dir, "agg", "recommendations.csv"), "utf8")).split("\n")[0];
    expect(header).toBe(RECOMMENDATION_COLUMNS.map((c) => c.name).join(","));
    const html = recommendationsHtml(recs);
    for (const users of [8, 32, 64]) expect(html).toContain(`<h3>users=${users}</h3>`);
    expect(html).toContain("best is gpus=2 tp=2");
    expect(html.match(/no SLO set/g)).toHaveLength(1);
    // memory and cache (at 32, 64) have no figures: one line per workload, not a sentence each.
    expect(html).toContain("No configuration has the figures for: memory, cache.");
    expect(recommend(summary.rows, { e2e_ms_p99: 1 }).every((r) => r.verdict === null)).toBe(true);
  });
});
