/**
 * Whether the target has prefix caching on, from its `/metrics`
 * (`vllm:cache_config_info`'s `enable_prefix_caching` label, read by the
 * summary's own rule, analysis/aggregate/prefix-cache.ts). prefill-only
 * resends its prompts wave after wave: with caching on, every wave after the
 * first few is a cache hit, not a prefill, and its figures say nothing.
 * Null when the target exports no such metric (not vLLM, or unreachable).
 */
import { request } from "undici";
import { prefixCachingOf } from "../analysis/aggregate/prefix-cache.ts";
import { parsePrometheusText } from "../analysis/aggregate/prometheus-text.ts";
import { parseTargetUrl } from "../load/node/target-url.ts";

export async function targetPrefixCaching(
  baseUrl: string,
  apiKey?: string,
): Promise<boolean | null> {
  const target = parseTargetUrl(baseUrl);
  const url = `${target.origin}${target.basePath}/metrics`;
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  try {
    const res = await request(url, { headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) return null;
    return prefixCachingOf([{ file: url, samples: parsePrometheusText(text, url) }], []);
  } catch {
    return null;
  }
}
