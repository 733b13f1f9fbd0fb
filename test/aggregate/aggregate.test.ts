import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import type { MetricSample } from "../../formats/raw-layout.ts";
import type { RequestRecord } from "../../formats/request-record.ts";
import { parquetColumnTypes, readParquetRows } from "./duckdb-read.ts";
import { GPU_FIXTURES } from "./fixtures.ts";
import {
  syntheticInfo,
  syntheticRequest,
  vllmMetricsText,
  writeSyntheticExperiment,
} from "./synthetic-campaign.ts";

// The window sits over the loaded part of the real nvidia-smi capture (host-local time).
const W0 = new Date(2026, 10, 22, 14, 46, 51, 0).getTime() * 1000;
const W1 = W0 + 10_000_000;
const S = 1_000_000;

function req(i: number, o: Partial<RequestRecord>): RequestRecord {
  return syntheticRequest({
    experiment_id: "e10",
    request_id: `r${i}`,
    start_us: W0 + i * S,
    end_us: W0 + i * S + 500_000,
    output_tokens: 11,
    prompt_tokens: 50,
    ...o,
  });
}

// Five ok requests in the window with TTFT 100…500 ms and TPOT 10…50 ms, plus
// warm-up, a request ending after the window, two failures and a cancellation.
// The warm-up request r0 ends inside the window: it counts for throughput but
// not for latency. r9, sent in the window, ends after it: latency, not
// throughput. Seven requests are too few for any latency statistic (null and
// flagged); the arithmetic of the statistics is test/stats' and
// load-summary-equals-aggregate's.
const REQUESTS: RequestRecord[] = [
  req(-1, { warmup: true, start_us: W0 - 900_000, end_us: W0 - 100_000, ttft_ms: 9999 }),
  req(0, { warmup: true, start_us: W0 - 200_000, end_us: W0 + 300_000, ttft_ms: 7777 }),
  ...[1, 2, 3, 4, 5].map((k) =>
    req(k, {
      ttft_ms: 100 * k,
      tpot_ms: 10 * k,
      itl_mean_ms: 10 * k,
      itl_gaps_ms: Array(10).fill(10 * k),
      e2e_ms: 100 * k + 10 * k * 10,
    }),
  ),
  req(6, { ok: false, error_kind: "http_5xx", http_status: 503, ttft_ms: null, tpot_ms: null }),
  req(7, { ok: false, error_kind: "timeout", http_status: null, ttft_ms: null }),
  // Cut when the window closed: it ends at the window's end, outside [start, end).
  req(8, { ok: false, error_kind: "cancelled", http_status: null, end_us: W1 }),
  req(9, { start_us: W1 - 100_000, end_us: W1 + 1, ttft_ms: 1 }),
];

// vLLM creates every finish reason's series at start-up, so both scrapes hold them all.
const BEFORE = vllmMetricsText({
  requestSuccess: { stop: 10, length: 0 },
  promptTokens: 1000,
  generationTokens: 2000,
  preemptions: 1,
  histograms: {
    time_to_first_token_seconds: {
      buckets: [
        [0.1, 5],
        [0.5, 8],
        [1, 10],
        [Number.POSITIVE_INFINITY, 10],
      ],
      sum: 3,
    },
  },
});
const AFTER = vllmMetricsText({
  requestSuccess: { stop: 30, length: 5 },
  promptTokens: 4000,
  generationTokens: 9000,
  preemptions: 4,
  histograms: {
    time_to_first_token_seconds: {
      buckets: [
        [0.1, 15],
        [0.5, 28],
        [1, 34],
        [Number.POSITIVE_INFINITY, 35],
      ],
      sum: 11,
    },
  },
});

const GAUGES: MetricSample[] = [
  { t_us: W0 + S, metric: "vllm:num_requests_running", labels: { engine: "0" }, value: 2 },
  { t_us: W0 + S, metric: "vllm:num_requests_running", labels: { engine: "1" }, value: 1 },
  { t_us: W0 + S, metric: "vllm:num_requests_waiting", labels: { engine: "0" }, value: 0 },
  { t_us: W0 + S, metric: "vllm:gpu_cache_usage_perc", labels: { engine: "0" }, value: 0.3 },
  { t_us: W0 + 2 * S, metric: "vllm:num_requests_running", labels: { engine: "0" }, value: 5 },
  { t_us: W0 + 2 * S, metric: "vllm:num_requests_waiting", labels: { engine: "0" }, value: 4 },
  { t_us: W0 + 2 * S, metric: "vllm:gpu_cache_usage_perc", labels: { engine: "0" }, value: 0.7 },
];

let dir: string;
let result: Awaited<ReturnType<typeof aggregate>>;
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-"));
  const gpuCsv = await readFile(join(GPU_FIXTURES, "query-gpu-loop-load.csv"), "utf8");
  await writeSyntheticExperiment(dir, {
    info: syntheticInfo({
      experimentId: "e10",
      windowStartUs: W0,
      windowEndUs: W1,
      factors: { gpus: 1, tp: 1, dp: 1, users: 4, enable_prefix_caching: true },
      gpus: [
        {
          index: 0,
          name: "NVIDIA H200",
          uuid: "GPU-0",
          memory_total_mib: 143771,
          driver_version: null,
          pci_bus_id: null,
        },
      ],
    }),
    requests: REQUESTS,
    gpuCsv,
    metricsBefore: BEFORE,
    metricsAfter: AFTER,
    metricsSamples: GAUGES,
  });
  // An open-loop experiment: `rate` appears as a column; e2 sorts after e10.
  await writeSyntheticExperiment(dir, {
    info: syntheticInfo({
      experimentId: "e2",
      factors: { gpus: 2, tp: 2, dp: 1, rate: 2.5 },
    }),
    requests: [
      syntheticRequest({ experiment_id: "e2", end_us: syntheticInfo().times.window_start_us! + 5 }),
    ],
  });
  // A second campaign sorts after the first.
  await writeSyntheticExperiment(dir, {
    info: syntheticInfo({ campaign: "c2", experimentId: "a1" }),
    requests: [],
  });
  result = await aggregate({
    resultsDir: dir,
    slo: { ttftMs: 350, tpotMs: 25 },
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("aggregate: summary.parquet", () => {
  it("writes every core table and reports them", () => {
    expect(result.experiments).toBe(3);
    expect(result.skipped).toEqual([]);
    expect(result.files.map((f) => f.slice(result.outDir.length + 1)).sort()).toEqual([
      "gpu.parquet",
      "requests.parquet",
      "server_metrics.parquet",
      "summary.csv",
      "summary.parquet",
    ]);
  });

  it("has one row per experiment, sorted by campaign then experiment id", async () => {
    const rows = await readParquetRows(join(dir, "agg/summary.parquet"));
    expect(rows.map((r) => `${r.campaign}/${r.experiment_id}`)).toEqual([
      "c1/e10",
      "c1/e2",
      "c2/a1",
    ]);
  });

  it("types columns as the contract says, with factor columns only when used", async () => {
    const types = await parquetColumnTypes(join(dir, "agg/summary.parquet"));
    expect(types.schema_version).toBe("INTEGER");
    expect(types.repeat).toBe("INTEGER");
    expect(types.gpus).toBe("BIGINT");
    expect(types.users).toBe("BIGINT");
    expect(types.rate).toBe("DOUBLE");
    expect(types.enable_prefix_caching).toBe("BOOLEAN");
    expect(types.campaign).toBe("VARCHAR");
    expect(types.ttft_ms_p99).toBe("DOUBLE");
    expect(types.errors_cancelled).toBe("BIGINT");
    expect(types.max_num_seqs).toBeUndefined();
    expect(types.block_size).toBeUndefined();
  });

  it("computes counts, rates, percentiles and goodput against hand-computed values", async () => {
    const [e10] = await readParquetRows(join(dir, "agg/summary.parquet"));
    expect(e10).toMatchObject({
      schema_version: 3,
      group_id: "g1",
      repeat: 1,
      status: "ok",
      status_reason: null,
      gpus: 1n,
      users: 4n,
      rate: null,
      enable_prefix_caching: true,
      engine: "node",
      mode: "closed",
      api: "chat",
      model: "sim-model",
      window_s: 10,
      requests_ok: 6n,
      requests_failed: 2n,
      errors_http_5xx: 1n,
      errors_timeout: 1n,
      errors_cancelled: 0n,
      errors_connect: 0n,
      slo_ttft_ms: 350,
      slo_tpot_ms: 25,
    });
    const close = (key: string, value: number) => expect(e10![key]).toBeCloseTo(value, 9);
    close("error_rate", 2 / 8);
    close("requests_per_s", 0.6);
    close("output_tokens_per_s", 66 / 10);
    close("total_tokens_per_s", (66 + 300) / 10);
    // Sent in the window: r1…r5 and r9 ok; r7 timed out and r8 was cut (censored), r8
    // after its first token (its TTFT is a value). r0's TTFT of 7777 ms is no value.
    expect(e10).toMatchObject({
      ttft_ms_n: 7n,
      tpot_ms_n: 6n,
      e2e_ms_n: 6n,
      itl_ms_n: 50n,
      itl_request_mean_ms_n: 6n,
      latency_censored: 2n,
    });
    for (const stat of ["mean", "p50", "p90", "p95", "p99"])
      expect(e10![`ttft_ms_${stat}`], stat).toBeNull();
    expect(String(e10!.latency_flags).split("; ")).toEqual([
      "ttft_ms p50/p90/p95/p99/mean null: 7 requests < 20",
      "tpot_ms p50/p90/p95/p99/mean null: 6 requests < 20",
      "itl_ms p50/p90/p95/p99/mean null: 5 requests < 20",
      "itl_request_mean_ms p50/p90/p95/p99/mean null: 6 requests < 20",
      "e2e_ms p50/p90/p95/p99/mean null: 6 requests < 20",
    ]);
    // Goodput: (100 ms, 10 ms) and (200 ms, 20 ms) meet TTFT ≤ 350 and TPOT ≤ 25.
    close("goodput_requests_per_s", 0.2);
    close("goodput_fraction", 2 / 8);
  });

  it("summarises GPU 0 (the one in use) over the samples inside the window", async () => {
    const [e10] = await readParquetRows(join(dir, "agg/summary.parquet"));
    // 14:46:51.261 … 14:46:55.763: the ten loaded samples of GPU 0.
    const power = [267.62, 578.94, 693.06, 689.81, 692.81, 688.2, 691.48, 689.78, 693.99, 692.17];
    expect(e10!.gpu_util_mean).toBeCloseTo(100, 9);
    expect(e10!.gpu_util_max).toBe(100);
    expect(e10!.gpu_mem_used_mib_mean).toBeCloseTo(1139, 9);
    expect(e10!.gpu_mem_used_mib_max).toBe(1139);
    expect(e10!.gpu_power_w_mean).toBeCloseTo(power.reduce((a, b) => a + b) / 10, 9);
    expect(e10!.gpu_power_w_max).toBe(693.99);
  });

  it("derives server figures from /metrics deltas, bucket interpolation and gauges", async () => {
    const [e10, e2] = await readParquetRows(join(dir, "agg/summary.parquet"));
    expect(e10).toMatchObject({
      server_requests: 25n,
      server_prompt_tokens: 3000n,
      server_generation_tokens: 7000n,
      server_preemptions: 3n,
      server_queue_s_mean: null,
    });
    // Δ buckets: ≤0.1: 10, ≤0.5: 20, ≤1: 24, +Inf: 25; Δsum 8.
    expect(e10!.server_ttft_s_mean).toBeCloseTo(8 / 25, 12);
    // rank 12.5 lies in (0.1, 0.5] holding 10: 0.1 + 0.4 · 2.5/10.
    expect(e10!.server_ttft_s_p50).toBeCloseTo(0.2, 12);
    // rank 24.75 lies in the +Inf bucket: the highest finite bound.
    expect(e10!.server_ttft_s_p99).toBe(1);
    // Running 3 then 5 (summed over engines), waiting 0 then 4, KV max under the old name.
    expect(e10!.server_running_mean).toBe(4);
    expect(e10!.server_waiting_mean).toBe(2);
    expect(e10!.server_kv_cache_usage_max).toBe(0.7);
    expect(e2).toMatchObject({
      server_requests: null,
      gpu_util_mean: null,
      rate: 2.5,
      users: null,
    });
  });

  it("writes summary.csv with the same columns and values", async () => {
    const csv = (await readFile(join(dir, "agg/summary.csv"), "utf8")).trim().split("\n");
    const header = csv[0]!.split(",");
    const types = await parquetColumnTypes(join(dir, "agg/summary.parquet"));
    expect(header).toEqual(Object.keys(types));
    const e10 = Object.fromEntries(header.map((h, i) => [h, csv[1]!.split(",")[i]]));
    expect(e10).toMatchObject({
      experiment_id: "e10",
      requests_ok: "6",
      ttft_ms_p90: "",
      ttft_ms_n: "7",
      rate: "",
    });
  });
});

describe("aggregate: requests, gpu and server_metrics tables", () => {
  it("requests.parquet holds every record value for value, plus campaign, gpus, in_window", async () => {
    const rows = await readParquetRows(join(dir, "agg/requests.parquet"));
    const e10 = rows.filter((r) => r.experiment_id === "e10");
    expect(e10).toHaveLength(REQUESTS.length);
    const expectedInWindow = [false, true, true, true, true, true, true, true, true, false, false];
    e10.forEach((row, i) => {
      // The gaps feed the summary's ITL; requests.parquet keeps the per-request figures.
      const { itl_gaps_ms: _gaps, ...rec } = REQUESTS[i]!;
      const expected: Record<string, unknown> = {
        ...rec,
        start_us: BigInt(rec.start_us),
        end_us: BigInt(rec.end_us),
        prompt_tokens: rec.prompt_tokens === null ? null : BigInt(rec.prompt_tokens),
        output_tokens: rec.output_tokens === null ? null : BigInt(rec.output_tokens),
        schema_version: 3,
        campaign: "c1",
        gpus: 1n,
        in_window: expectedInWindow[i],
        wave: rec.wave ?? null,
        max_tokens:
          rec.max_tokens === undefined || rec.max_tokens === null ? null : BigInt(rec.max_tokens),
      };
      expect(row).toEqual(expected);
    });
    expect(rows.map((r) => r.experiment_id)).toEqual([...e10.map(() => "e10"), "e2"]);
  });

  it("gpu.parquet holds every nvidia-smi sample with its time and window flag", async () => {
    const rows = await readParquetRows(join(dir, "agg/gpu.parquet"));
    expect(rows).toHaveLength(32);
    expect(rows[0]).toEqual({
      schema_version: 3,
      campaign: "c1",
      experiment_id: "e10",
      source: "query-gpu",
      time: BigInt(new Date(2026, 10, 22, 14, 46, 48, 226).getTime()) * 1000n,
      gpu_index: 0,
      util_gpu_pct: 0,
      util_mem_pct: 0,
      mem_used_mib: 0,
      mem_total_mib: 143771,
      power_w: 79.56,
      temp_c: 33,
      sm_clock_mhz: 345,
      in_window: false,
    });
    expect(rows.filter((r) => r.in_window).length).toBe(20);
  });

  it("server_metrics.parquet holds the gauge samples with sorted-key labels", async () => {
    const rows = await readParquetRows(join(dir, "agg/server_metrics.parquet"));
    expect(rows.map((r) => [r.time, r.metric, r.labels, r.value])).toEqual(
      GAUGES.map((g) => [BigInt(g.t_us), g.metric, JSON.stringify(g.labels), g.value]),
    );
  });
});
