/**
 * The cache goal of the recommendations on hand-set rows (the planted
 * campaigns cover the measured path): the highest prefix-cache hit rate
 * among candidates wins; runs without a rate (caching off) are not candidates
 * for it, and a client-limited run never is.
 */
import { describe, expect, it } from "vitest";
import type { SummaryRow } from "../../analysis/fit/summary.ts";
import { recommend } from "../../analysis/why/recommend.ts";

const row = (id: string, hitRate: number | null, extra: Partial<SummaryRow> = {}): SummaryRow => ({
  campaign: "c",
  experiment_id: id,
  repeat: 1,
  status: "ok",
  gpus: 1,
  tp: 1,
  dp: 1,
  output_tokens_per_s: 100,
  e2e_ms_p99: 500,
  client_limited: false,
  server_prefix_hit_rate: hitRate,
  ...extra,
});

const cacheGoal = (rows: SummaryRow[]) => recommend(rows).find((r) => r.goal === "cache");

describe("recommend: cache goal", () => {
  it("picks the highest hit rate, with the runner-up and margin", () => {
    const rec = cacheGoal([row("off", null), row("low", 0.4), row("high", 0.9)]);
    expect(rec).toMatchObject({ experiment_id: "high", score: 0.9, runner_up: "low" });
    expect(rec?.margin).toBeCloseTo(0.5 / 0.4, 12);
  });

  it("has no winner when no candidate has a hit rate", () => {
    const rec = cacheGoal([row("off", null), row("limited", 0.9, { client_limited: true })]);
    expect(rec?.experiment_id).toBeNull();
    expect(rec?.note).toContain("figures this goal needs");
  });
});
