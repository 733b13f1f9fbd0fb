/**
 * `/metrics` against the pinned release's metric set kept as data
 * (formats/vllm-metrics.ts, read from vllm/v1/metrics/loggers.py at v0.16.0):
 * the same families, types, labels and buckets, numbers written as Python's
 * prometheus_client writes them (exposition.py `floatToGoString`), and the
 * counts recorded as vllm/v1/metrics/stats.py records them.
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bucketsOf,
  expositionName,
  VLLM_CACHE_CONFIG_FIELDS,
  VLLM_FINISH_REASONS,
  VLLM_METRICS,
  type VllmMetricSpec,
} from "../../formats/vllm-metrics.ts";
import { floatToGoString } from "../../sim/prom-registry.ts";
import type { SimServer } from "../../sim/server.ts";
import { MODEL, metricValue, postJson, sim, stream } from "./helpers.ts";

const parsePrometheus = createRequire(import.meta.url)("parse-prometheus-text-format") as (
  text: string,
) => { name: string; type: string; metrics: { labels?: Record<string, string> }[] }[];

let server: SimServer;
let before: string;
beforeAll(async () => {
  server = await sim({ dataParallelSize: 2, maxModelLen: 4096, recordSteps: true });
  before = await (await fetch(`${server.url}/metrics`)).text();
});
afterAll(() => server.close());

/** Label names of each sample line, by family. */
function sampleLabels(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const match = /^([^\s{#]+)\{([^}]*)\}/.exec(line);
    if (!match) continue;
    const keys = [...(match[2] as string).matchAll(/(\w+)="/g)].map((m) => m[1] as string);
    const base = (match[1] as string).replace(/_(bucket|sum|count)$/, "");
    const set = out.get(base) ?? new Set();
    for (const key of keys) set.add(key);
    out.set(base, set);
  }
  return out;
}

describe("metrics exposition (vllm/v1/metrics/loggers.py at v0.16.0)", () => {
  it("serves exactly the release's families, with their types", () => {
    const served = parsePrometheus(before).map((f): [string, string] => [
      f.name,
      f.type.toLowerCase(),
    ]);
    const expected = Object.values(VLLM_METRICS).map((spec: VllmMetricSpec): [string, string] => [
      expositionName(spec),
      spec.type,
    ]);
    expect(new Map(served)).toEqual(new Map(expected));
    expect(served).toHaveLength(expected.length);
  });

  it("labels every series as vLLM does, and cache_config_info with every CacheConfig field", () => {
    const labels = sampleLabels(before);
    for (const spec of Object.values(VLLM_METRICS) as VllmMetricSpec[]) {
      const name = expositionName(spec);
      const want =
        spec === VLLM_METRICS.cacheConfigInfo
          ? [...VLLM_CACHE_CONFIG_FIELDS, "engine"]
          : [
              "model_name",
              "engine",
              ...spec.extraLabels,
              ...(spec.type === "histogram" ? ["le"] : []),
            ];
      expect([...(labels.get(name) ?? [])].sort(), name).toEqual([...want].sort());
    }
    const info = before.split("\n").find((l) => l.startsWith("vllm:cache_config_info{"));
    expect(info).toContain('enable_prefix_caching="True"');
    expect(info).toContain('gpu_memory_utilization="0.9"');
    expect(info).toContain('sliding_window="None"');
    expect(info).toContain(`num_gpu_blocks="${server.options.numGpuBlocks}"`);
    expect(info?.endsWith(" 1.0")).toBe(true);
    // Python sorts a sample's labels: engine before le before model_name.
    expect(before).toContain(
      `vllm:iteration_tokens_total_bucket{engine="1",le="1.0",model_name="${MODEL}"} 0.0`,
    );
    for (const reason of VLLM_FINISH_REASONS)
      expect(before).toContain(
        `vllm:request_success_total{engine="0",finished_reason="${reason}",model_name="${MODEL}"} 0.0`,
      );
  });

  it("writes each histogram's buckets, le in Python's spelling", () => {
    for (const spec of Object.values(VLLM_METRICS) as VllmMetricSpec[]) {
      if (spec.type !== "histogram") continue;
      const les = before
        .split("\n")
        .filter((l) => l.startsWith(`${spec.name}_bucket{engine="0"`))
        .map((l) => /le="([^"]+)"/.exec(l)?.[1]);
      expect(les, spec.name).toEqual([...bucketsOf(spec, 4096).map(floatToGoString), "+Inf"]);
    }
    expect(before).toContain('le="1.0"');
    expect(before).not.toMatch(/le="1"/);
    // build_1_2_5_buckets(4096) ends at 2000.
    expect(before).toContain('vllm:request_prompt_tokens_bucket{engine="0",le="2000.0"');
  });

  it("floatToGoString matches prometheus_client", () => {
    expect(
      [1, 0.001, 2560, 7680, 0, 2.5e-5, 1e6, 12345678, Number.POSITIVE_INFINITY].map(
        floatToGoString,
      ),
    ).toEqual([
      "1.0",
      "0.001",
      "2560.0",
      "7680.0",
      "0.0",
      "2.5e-05",
      "1e+06",
      "1.2345678e+07",
      "+Inf",
    ]);
  });

  it("counts iteration tokens, prompt tokens by source and per-request figures as IterationStats does", async () => {
    const prompt = "a prompt long enough to fill several cache blocks ".repeat(8);
    const runs = [];
    for (let i = 0; i < 2; i++)
      runs.push(
        await stream(server.url, "/v1/completions", {
          model: MODEL,
          prompt,
          max_tokens: 5,
          ignore_eos: true,
          stream_options: { include_usage: true },
        }),
      );
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const usage = (
      (runs[0] as { chunks: unknown[] }).chunks.at(-1) as { usage: { prompt_tokens: number } }
    ).usage;
    const promptLen = usage.prompt_tokens;
    // Steps with output: a prefill step observes prompt + 1, each decode step 1 (per replica).
    const stepsWithTokens = server.steps().filter((s) => s.tokenIds.length > 0).length;
    expect(metricValue(text, "vllm:iteration_tokens_total_count")).toBe(stepsWithTokens);
    expect(metricValue(text, "vllm:iteration_tokens_total_sum")).toBe(2 * promptLen + 10);
    const cached = metricValue(text, "vllm:prompt_tokens_cached_total");
    expect(cached).toBeGreaterThan(0);
    expect(
      metricValue(text, "vllm:prompt_tokens_by_source_total", { source: "local_compute" }),
    ).toBe(2 * promptLen - cached);
    expect(metricValue(text, "vllm:request_prefill_kv_computed_tokens_sum")).toBe(
      2 * promptLen - cached,
    );
    expect(metricValue(text, "vllm:request_max_num_generation_tokens_sum")).toBe(10);
    expect(metricValue(text, "vllm:request_params_max_tokens_sum")).toBe(10);
    expect(metricValue(text, "vllm:request_time_per_output_token_seconds_count")).toBe(2);
    expect(metricValue(text, "vllm:inter_token_latency_seconds_count")).toBe(8);
    expect(metricValue(text, "vllm:request_success_total", { finished_reason: "length" })).toBe(2);
    const tokenize = await postJson(server.url, "/tokenize", { prompt });
    expect(tokenize.json.count).toBe(promptLen);
  });
});
