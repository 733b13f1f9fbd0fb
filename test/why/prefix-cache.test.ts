/**
 * A planted cache bottleneck: prompts that share long prefixes (synthetic
 * `prefix`/`groups`) against the simulator with prefix caching off must be
 * classed `cache`; the same prompts with caching on (vLLM V1's default) hit
 * the cache about as often as they share, and are not. The prefix share is
 * measured from the prompts sent (experiment.json), the hit rate from the
 * `/metrics` counter deltas, the setting from `vllm:cache_config_info`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { THRESHOLDS } from "../../analysis/why/classify.ts";
import { ExperimentInfoSchema } from "../../formats/raw-layout.ts";
import { expectPlantedClass, plantedCampaign, simServer } from "./planted-campaign.ts";

/** 256 shared tokens before 32 of each prompt's own: a share near 256 / 288. */
const MATRIX = `
campaign: prefixcache
seed: 7
${simServer()}
load:
  engine: node
  mode: closed
  spawn_rate: 16
  warmup: 500ms
  duration: 1s
  workers: 1
  max_tokens: 8
  timeout: 10s
prompts:
  shared: { tokens: { dist: fixed, mean: 32, prefix: 256, groups: 2 }, count: 32 }
factors:
  gpus: [1]
  users: [8]
  enable_prefix_caching: [true, false]
`;

const campaign = plantedCampaign("prefixcache", MATRIX, { analyze: false });

/** The two runs' summary rows, by caching setting. */
const byCaching = async () =>
  Object.fromEntries(
    Object.values(await campaign.summary()).map((r) => [r.enable_prefix_caching ? "on" : "off", r]),
  );

describe("prefix-sharing prompts (planted campaign)", () => {
  it("records the prompts' prefix share in experiment.json and the summary", async () => {
    expect(campaign.run.code, campaign.run.stderr).toBe(0);
    const info = ExperimentInfoSchema.parse(
      JSON.parse(
        await readFile(
          join(campaign.results, "raw", "prefixcache", "g1-tp1-u8-pc0-r1", "experiment.json"),
          "utf8",
        ),
      ),
    );
    const share = info.prompt_set.prefix_share ?? Number.NaN;
    expect(share).toBeGreaterThan(0.8);
    expect(share).toBeLessThan(0.95);
    const { on, off } = await byCaching();
    expect(on?.prompt_prefix_share).toBeCloseTo(share, 12);
    expect(off?.prompt_prefix_share).toBeCloseTo(share, 12);
  });

  it("classes caching off as cache: no queries, the setting is the evidence", async () => {
    const { off } = await byCaching();
    expect(off?.server_prefix_caching).toBe(false);
    expect(off?.server_prefix_queries).toBe(0n);
    expect(off?.server_prefix_hit_rate).toBeNull();
    expectPlantedClass(off, "cache");
    expect(String(off?.bottleneck_evidence)).toContain("prefix_caching=false");
  });

  it("with caching on hits about as often as the prompts share, and is not cache", async () => {
    const { on } = await byCaching();
    expect(on?.server_prefix_caching).toBe(true);
    const rate = Number(on?.server_prefix_hit_rate);
    expect(rate).toBeCloseTo(
      Number(on?.server_prefix_hits) / Number(on?.server_prefix_queries),
      12,
    );
    expect(rate).toBeGreaterThan(THRESHOLDS.hitShortfall * Number(on?.prompt_prefix_share));
    expect(on?.bottleneck).not.toBe("cache");
    expect(String(on?.bottleneck_evidence)).not.toContain("server: cache");
  });
});
