/**
 * The summary's prefix-cache columns beside the counter deltas: the hit
 * rate over the window, and whether the server had prefix caching on. vLLM
 * V1 counts prefix-cache queries only while caching is on
 * (vllm/v1/core/kv_cache_manager.py `get_computed_blocks` returns before
 * recording stats otherwise), so with caching off there is no rate; the
 * setting itself then says why.
 */
import { FACTORS } from "../../config/factors.ts";
import { VLLM_METRICS } from "../../formats/vllm-metrics.ts";
import type { Scrape } from "./server-figures.ts";

/** The factor's own flag, and argparse's BooleanOptionalAction negation of it. */
const ON = FACTORS.enable_prefix_caching.flag;
const OFF = ON.replace(/^--/, "--no-");

/**
 * The `enable_prefix_caching` label of `vllm:cache_config_info` (vLLM
 * exports CacheConfig's fields as labels), else the last of the two flags
 * in the argv (argparse's BooleanOptionalAction: the last one wins), else
 * null: the default differs between vLLM releases (V1 turns it on).
 */
export function prefixCachingOf(
  scrapes: readonly Scrape[],
  argv: readonly string[],
): boolean | null {
  for (const scrape of scrapes) {
    if (scrape.problem !== undefined) continue;
    const info = scrape.samples.find((s) => s.name === VLLM_METRICS.cacheConfigInfo.name);
    const label = info?.labels.enable_prefix_caching;
    if (label === "True") return true;
    if (label === "False") return false;
  }
  for (let i = argv.length - 1; i >= 0; i--) {
    if (argv[i] === ON) return true;
    if (argv[i] === OFF) return false;
  }
  return null;
}

/** Δhits / Δqueries; null without queries (caching off, or no prompt reached the scheduler). */
export function prefixCacheHitRate(deltas: Readonly<Record<string, number | null>>): number | null {
  const queries = deltas.server_prefix_queries;
  const hits = deltas.server_prefix_hits;
  if (queries === null || queries === undefined || hits === null || hits === undefined) return null;
  return queries > 0 ? hits / queries : null;
}
