/**
 * Synthetic raw campaign folders in exactly the layout the campaign runner
 * writes (formats/raw-layout.ts, formats/request-record.ts), with answers the tests know.
 * Reusable by the simulator and campaign tests: every file is optional, and
 * a raw text override lets a test plant broken input.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeNdjson } from "../../analysis/aggregate/ndjson-write.ts";
import {
  type ExperimentInfo,
  experimentDir,
  type MetricSample,
  RAW_FILES,
  RAW_SCHEMA_VERSION,
  type Status,
} from "../../formats/raw-layout.ts";
import type { RequestRecord } from "../../formats/request-record.ts";

export const T0_US = 1_780_000_000_000_000;

export function syntheticRequest(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    experiment_id: "e1",
    engine: "node",
    request_id: "r-0",
    prompt_set: "short",
    start_us: T0_US,
    end_us: T0_US + 1_000_000,
    ttft_ms: 100,
    e2e_ms: 1000,
    itl_mean_ms: 10,
    itl_p50_ms: 10,
    itl_p90_ms: 12,
    itl_p99_ms: 15,
    itl_max_ms: 20,
    tpot_ms: 10,
    prompt_tokens: 50,
    output_tokens: 91,
    tokens_from_usage: true,
    http_status: 200,
    ok: true,
    error_kind: null,
    error_message: null,
    finish_reason: "length",
    warmup: false,
    ...overrides,
  };
}

export interface InfoOverrides {
  campaign?: string;
  experimentId?: string;
  groupId?: string;
  repeat?: number;
  factors?: ExperimentInfo["factors"];
  windowStartUs?: number | null;
  windowEndUs?: number | null;
  gpus?: ExperimentInfo["gpus"];
  model?: string;
}

export function syntheticInfo(o: InfoOverrides = {}): ExperimentInfo {
  const campaign = o.campaign ?? "c1";
  const experimentId = o.experimentId ?? "e1";
  return {
    schema_version: RAW_SCHEMA_VERSION,
    campaign,
    experiment_id: experimentId,
    group_id: o.groupId ?? "g1",
    repeat: o.repeat ?? 1,
    seed: 42,
    factors: o.factors ?? { gpus: 1, tp: 1, dp: 1, users: 4 },
    matrix_file: "config/experiment_matrix.yaml",
    server: {
      kind: "sim",
      model: o.model ?? "sim-model",
      argv: ["vscale", "sim", "serve"],
      env_names: [],
      url: "http://127.0.0.1:8000",
      version: null,
    },
    load: {
      engine: "node",
      mode: "closed",
      api: "chat",
      users: 4,
      rate: null,
      arrival: null,
      burstiness: null,
      max_concurrency: null,
      max_tokens: 128,
      stream: true,
      ignore_eos: true,
      temperature: 0,
      warmup_ms: 1000,
      duration_ms: 10_000,
      timeout_ms: 120_000,
    },
    prompt_set: { name: "short", source: "synthetic", count: 16, tokens_estimated: true },
    vscale_version: "0.1.0",
    host: { hostname: "test", platform: "linux", cpus: 2, node: process.version },
    gpus: o.gpus === undefined ? null : o.gpus,
    gpu_note: null,
    // The Node engine's saturation guard, as campaign/run-experiment.ts writes it: a light run.
    client: {
      workers: 1,
      loop_lag_ms_p99: 0.4,
      send_lag_ms_p99: 0.2,
      cpu_pct: 12,
      limited: false,
      reasons: [],
      per_worker: [
        { loop_lag_ms_p99: 0.4, send_lag_ms_p99: 0.2, cpu_pct: 12, send_lag_samples: 40 },
      ],
    },
    times: {
      started_at: new Date(T0_US / 1000).toISOString(),
      warmup_start_us: T0_US - 1_000_000,
      window_start_us: o.windowStartUs === undefined ? T0_US : o.windowStartUs,
      window_end_us: o.windowEndUs === undefined ? T0_US + 10_000_000 : o.windowEndUs,
      finished_at: new Date(T0_US / 1000 + 11_000).toISOString(),
    },
  };
}

export interface SyntheticExperiment {
  info?: ExperimentInfo;
  /** null: no status.json (an incomplete run). */
  status?: Status | null;
  requests?: Iterable<RequestRecord>;
  /** Raw requests.ndjson text, replacing `requests` (for broken files). */
  requestsText?: string;
  gpuCsv?: string;
  gpuDmon?: string;
  metricsBefore?: string;
  metricsAfter?: string;
  metricsSamples?: MetricSample[];
  /** Extra files (name → content), e.g. profile CSVs. */
  extraFiles?: Record<string, string>;
}

/** Writes one experiment folder; returns its path. */
export async function writeSyntheticExperiment(
  resultsDir: string,
  exp: SyntheticExperiment,
): Promise<string> {
  const info = exp.info ?? syntheticInfo();
  const dir = experimentDir(resultsDir, info.campaign, info.experiment_id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, RAW_FILES.experiment), `${JSON.stringify(info, null, 2)}\n`);
  let count = 0;
  if (exp.requestsText !== undefined) {
    await writeFile(join(dir, RAW_FILES.requests), exp.requestsText);
  } else if (exp.requests) {
    count = await writeNdjson(join(dir, RAW_FILES.requests), exp.requests);
  }
  if (exp.gpuCsv !== undefined) await writeFile(join(dir, RAW_FILES.gpu), exp.gpuCsv);
  if (exp.gpuDmon !== undefined) await writeFile(join(dir, "gpu-dmon.txt"), exp.gpuDmon);
  if (exp.metricsBefore !== undefined) {
    await writeFile(join(dir, RAW_FILES.metricsBefore), exp.metricsBefore);
  }
  if (exp.metricsAfter !== undefined)
    await writeFile(join(dir, RAW_FILES.metricsAfter), exp.metricsAfter);
  if (exp.metricsSamples)
    await writeNdjson(join(dir, RAW_FILES.metricsSamples), exp.metricsSamples);
  for (const [name, content] of Object.entries(exp.extraFiles ?? {})) {
    await writeFile(join(dir, name), content);
  }
  if (exp.status !== null) {
    const status: Status = exp.status ?? {
      status: "ok",
      reason: null,
      finished_at: info.times.finished_at ?? info.times.started_at,
      requests: count,
    };
    await writeFile(join(dir, RAW_FILES.status), `${JSON.stringify(status)}\n`);
  }
  return dir;
}

/** Streams objects as NDJSON (aggregation's own writer); returns the line count. */
export { writeNdjson };

export interface VllmScrape {
  model?: string;
  running?: number;
  waiting?: number;
  kvCacheUsage?: number;
  /** Use the pre-V1 gauge name `vllm:gpu_cache_usage_perc`. */
  oldKvName?: boolean;
  requestSuccess?: Record<string, number>;
  promptTokens?: number;
  generationTokens?: number;
  preemptions?: number;
  prefixCacheQueries?: number;
  prefixCacheHits?: number;
  /** Histogram name (without `vllm:`) → cumulative bucket counts by upper bound, plus sum. */
  histograms?: Record<string, { buckets: [number, number][]; sum: number }>;
}

/** A `/metrics` body shaped like vLLM's (prometheus_client output, `model_name` label). */
export function vllmMetricsText(s: VllmScrape): string {
  const label = `model_name="${s.model ?? "sim-model"}"`;
  const lines: string[] = [];
  const family = (name: string, type: string, samples: string[]) => {
    lines.push(`# HELP ${name} ${name}.`, `# TYPE ${name} ${type}`, ...samples);
  };
  family("vllm:num_requests_running", "gauge", [
    `vllm:num_requests_running{${label}} ${s.running ?? 0}`,
  ]);
  family("vllm:num_requests_waiting", "gauge", [
    `vllm:num_requests_waiting{${label}} ${s.waiting ?? 0}`,
  ]);
  const kv = s.oldKvName ? "vllm:gpu_cache_usage_perc" : "vllm:kv_cache_usage_perc";
  family(kv, "gauge", [`${kv}{${label}} ${s.kvCacheUsage ?? 0}`]);
  const counter = (name: string, value: number | undefined) =>
    family(`${name}_total`, "counter", [`${name}_total{${label}} ${(value ?? 0).toFixed(1)}`]);
  counter("vllm:num_preemptions", s.preemptions);
  counter("vllm:prompt_tokens", s.promptTokens);
  counter("vllm:generation_tokens", s.generationTokens);
  counter("vllm:prefix_cache_queries", s.prefixCacheQueries);
  counter("vllm:prefix_cache_hits", s.prefixCacheHits);
  family(
    "vllm:request_success_total",
    "counter",
    Object.entries(s.requestSuccess ?? { stop: 0 }).map(
      ([reason, n]) =>
        `vllm:request_success_total{finished_reason="${reason}",${label}} ${n.toFixed(1)}`,
    ),
  );
  for (const [short, h] of Object.entries(s.histograms ?? {})) {
    const name = `vllm:${short}`;
    const total = h.buckets[h.buckets.length - 1]?.[1] ?? 0;
    family(name, "histogram", [
      ...h.buckets.map(
        ([le, n]) =>
          `${name}_bucket{le="${le === Number.POSITIVE_INFINITY ? "+Inf" : String(le)}",${label}} ${n.toFixed(1)}`,
      ),
      `${name}_count{${label}} ${total.toFixed(1)}`,
      `${name}_sum{${label}} ${h.sum}`,
    ]);
  }
  return `${lines.join("\n")}\n`;
}

/** A small deterministic PRNG (mulberry32) so generated campaigns are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` seeded, plausible request records spread over the window (for benches and smoke tests). */
export function* generatedRequests(
  experimentId: string,
  count: number,
  seed: number,
  windowUs = 10_000_000,
): Generator<RequestRecord> {
  const rand = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    const ok = rand() > 0.02;
    const output = 1 + Math.floor(rand() * 256);
    const ttft = 20 + rand() * 400;
    const tpot = 5 + rand() * 30;
    const e2e = ttft + tpot * (output - 1);
    const end = T0_US + Math.floor((i / count) * windowUs);
    yield syntheticRequest({
      experiment_id: experimentId,
      request_id: `${experimentId}-${i}`,
      start_us: end - Math.round(e2e * 1000),
      end_us: end,
      ttft_ms: ok ? ttft : null,
      e2e_ms: ok ? e2e : null,
      itl_mean_ms: ok && output > 1 ? tpot : null,
      itl_p50_ms: ok && output > 1 ? tpot : null,
      itl_p90_ms: ok && output > 1 ? tpot * 1.2 : null,
      itl_p99_ms: ok && output > 1 ? tpot * 1.5 : null,
      itl_max_ms: ok && output > 1 ? tpot * 2 : null,
      tpot_ms: ok && output > 1 ? tpot : null,
      prompt_tokens: 16 + Math.floor(rand() * 512),
      output_tokens: ok ? output : null,
      http_status: ok ? 200 : 503,
      ok,
      error_kind: ok ? null : "http_5xx",
      error_message: ok ? null : "503 Service Unavailable",
      finish_reason: ok ? "length" : null,
      warmup: i < count / 100,
    });
  }
}

/** A whole campaign of `experiments` folders with `requestsPerExperiment` generated records each. */
export async function writeGeneratedCampaign(
  resultsDir: string,
  opts: { campaign: string; experiments: number; requestsPerExperiment: number; seed?: number },
): Promise<string[]> {
  const dirs: string[] = [];
  for (let e = 0; e < opts.experiments; e++) {
    const experimentId = `e${String(e + 1).padStart(3, "0")}`;
    const gpus = 2 ** (e % 4);
    dirs.push(
      await writeSyntheticExperiment(resultsDir, {
        info: syntheticInfo({
          campaign: opts.campaign,
          experimentId,
          factors: { gpus, tp: gpus, dp: 1, users: 8 },
        }),
        requests: generatedRequests(experimentId, opts.requestsPerExperiment, (opts.seed ?? 1) + e),
      }),
    );
  }
  return dirs;
}
