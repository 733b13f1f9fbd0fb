/**
 * The prefix-cache columns beside the counter deltas: the setting from
 * `vllm:cache_config_info`, else the argv's last `--[no-]enable-prefix-caching`,
 * else unknown; the hit rate only where queries were counted.
 */
import { describe, expect, it } from "vitest";
import { prefixCacheHitRate, prefixCachingOf } from "../../analysis/aggregate/prefix-cache.ts";
import { parsePrometheusText } from "../../analysis/aggregate/prometheus-text.ts";
import type { Scrape } from "../../analysis/aggregate/server-figures.ts";

const scrape = (enabled: string): Scrape => ({
  file: "metrics-after.prom",
  samples: parsePrometheusText(
    `# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\nvllm:cache_config_info{block_size="16",enable_prefix_caching="${enabled}"} 1.0\n`,
    "metrics-after.prom",
  ),
});
const missing: Scrape = { file: "metrics-after.prom", problem: "missing" };

describe("prefix-cache columns", () => {
  it("take the setting from cache_config_info, then the argv's last flag, else null", () => {
    const argv = ["vllm", "serve", "m", "--enable-prefix-caching"];
    expect(prefixCachingOf([scrape("False")], argv)).toBe(false);
    expect(prefixCachingOf([missing, scrape("True")], [])).toBe(true);
    expect(prefixCachingOf([missing], argv)).toBe(true);
    expect(prefixCachingOf([missing], [...argv, "--no-enable-prefix-caching"])).toBe(false);
    expect(prefixCachingOf([missing], ["vllm", "serve", "m"])).toBeNull();
  });

  it("give a hit rate only where queries were counted", () => {
    expect(prefixCacheHitRate({ server_prefix_queries: 400, server_prefix_hits: 300 })).toBe(0.75);
    expect(prefixCacheHitRate({ server_prefix_queries: 0, server_prefix_hits: 0 })).toBeNull();
    expect(
      prefixCacheHitRate({ server_prefix_queries: null, server_prefix_hits: null }),
    ).toBeNull();
  });
});
