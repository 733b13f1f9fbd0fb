import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readChromeTrace } from "../../analysis/aggregate/chrome-trace.ts";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { parseScheduledTokens } from "../../analysis/aggregate/step-phases.ts";
import { DataError } from "../../common/errors.ts";
import { duckQuery, readParquetRows } from "./duckdb-read.ts";
import { AGG_FIXTURES } from "./fixtures.ts";
import { syntheticInfo, writeSyntheticExperiment } from "./synthetic-campaign.ts";

const PROFILES = join(AGG_FIXTURES, "profiles");
const STEP_CSV = join(PROFILES, "execution_stats_100_2.0_0.0_meta-llama-Llama-3.1-8B_sharegpt.csv");

let dir: string;
let extra: string;
let result: Awaited<ReturnType<typeof aggregate>>;
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-prof-"));
  const expDir = await writeSyntheticExperiment(dir, {
    info: syntheticInfo({ experimentId: "e1" }),
    requests: [],
  });
  await cp(PROFILES, join(expDir, "profiles"), { recursive: true });
  // A gzipped trace given with --profiles, outside any experiment.
  extra = join(dir, "extra");
  await cp(PROFILES, extra, { recursive: true, filter: (src) => !src.includes("session_") });
  await rm(join(extra, "trace_step1.json"));
  await rm(join(extra, "execution_stats_100_2.0_0.0_meta-llama-Llama-3.1-8B_sharegpt.csv"));
  await writeFile(
    join(extra, "worker0.1234.pt.trace.json.gz"),
    gzipSync(readFileSync(join(PROFILES, "trace_step1.json"))),
  );
  result = await aggregate({ resultsDir: dir, profiles: [extra], log: (l) => logs.push(l) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("step_phases.parquet (seed 000)", () => {
  it("has per-step phase times and shares and prefill/decode counts", async () => {
    const rows = await readParquetRows(join(dir, "agg/step_phases.parquet"));
    const pick = rows.map((r) => [
      r.step,
      r.step_s,
      r.execute_share,
      r.prefill_requests,
      r.decode_requests,
      r.prefill_tokens,
      r.decode_tokens,
    ]);
    const approx = (v: number) => expect.closeTo(v, 12);
    expect(pick).toEqual([
      [0n, approx(0.02), approx(0.9), 2n, 0n, 192n, 0n],
      [1n, approx(0.01), approx(0.9), 1n, 2n, 32n, 2n],
      [2n, approx(0.01), approx(0.6), 0n, 0n, 0n, 0n],
      [3n, approx(0.01), approx(0.4), null, null, null, null],
    ]);
    expect(rows[0]).toMatchObject({ campaign: "c1", experiment_id: "e1" });
    const [mean] = await duckQuery(
      `SELECT avg(execute_share) AS e, avg(scheduler_share) AS s FROM read_parquet('${join(dir, "agg/step_phases.parquet")}')`,
    );
    expect(mean!.e).toBeCloseTo(0.7, 12);
    expect(mean!.s).toBeCloseTo((0.05 + 0.05 + 0.2 + 0.1) / 4, 12);
  });

  it("reports the broken rows by file and line", () => {
    const file = join(dir, "raw/c1/e1/profiles", STEP_CSV.slice(PROFILES.length + 1));
    expect(logs).toContain(`${file}:5: phase times must be numbers ≥ 0; row skipped`);
    expect(logs).toContain(`${file}:6: num_scheduled_tokens: expected {'<request>': <tokens>, …}`);
  });

  it("parses Python dict literals of scheduled tokens", () => {
    expect(parseScheduledTokens(`{"a": 1, 'b,c': 7}`)).toEqual({
      prefillRequests: 1,
      decodeRequests: 1,
      prefillTokens: 7,
      decodeTokens: 1,
    });
    expect(parseScheduledTokens("{'a': 1,")).toBeNull();
    expect(parseScheduledTokens("[1]")).toBeNull();
  });
});

describe("profilemate tables (seed 003)", () => {
  it("writes one typed table per CSV kind found, nulls for empty cells", async () => {
    expect(result.files.map((f) => f.slice(result.outDir.length + 1)).sort()).toEqual([
      "gpu.parquet",
      "kernels.parquet",
      "ops.parquet",
      "profilemate_cuda_graph_captures.parquet",
      "profilemate_forward_pass_timing.parquet",
      "profilemate_request_lifecycle.parquet",
      "profilemate_sessions.parquet",
      "profilemate_summaries.parquet",
      "requests.parquet",
      "server_metrics.parquet",
      "step_phases.parquet",
      "summary.csv",
      "summary.parquet",
    ]);
    const lifecycle = await readParquetRows(join(dir, "agg/profilemate_request_lifecycle.parquet"));
    expect(
      lifecycle.map((r) => [r.session, r.request_id, r.preempted_sec, r.preemption_delay_sec]),
    ).toEqual([
      ["session_20250618_101500", "req-1", null, null],
      ["session_20250618_101500", "req-2", 1, 0.5],
    ]);
    const graphs = await readParquetRows(join(dir, "agg/profilemate_cuda_graph_captures.parquet"));
    expect(graphs.map((r) => [r.runtime_mode, r.num_reqs, r.uniform, r.capture_time_sec])).toEqual([
      ["FULL", 8n, true, 0.125],
      ["PIECEWISE", null, false, 0.5],
    ]);
    expect(graphs[0]).not.toHaveProperty("future_column");
    const forward = await readParquetRows(join(dir, "agg/profilemate_forward_pass_timing.parquet"));
    expect(forward.map((r) => r.forward_time_ms)).toEqual([35.5, 8.25, null]);
  });

  it("reports rows that do not fit", () => {
    expect(logs).toContainEqual(
      expect.stringMatching(/request_lifecycle\.csv:4: expected 7 fields, found 3; row skipped$/),
    );
    expect(logs).toContainEqual(
      expect.stringMatching(
        /forward_pass_timing\.csv:4: forward_time_ms: expected float64, got "fast"; left empty$/,
      ),
    );
  });
});

describe("profilemate summaries and metadata (seed 003)", () => {
  it("reads every *_summary.json in long form, keyed by experiment", async () => {
    const rows = await readParquetRows(join(dir, "agg/profilemate_summaries.parquet"));
    const pick = (kind: string, key: string | null, stat: string) =>
      rows.find((r) => r.kind === kind && r.key === key && r.stat === stat);
    expect(pick("forward_pass", "prefill", "p95_ms")).toMatchObject({
      value: 35.5,
      campaign: "c1",
      experiment_id: "e1",
      session: "session_20250618_101500",
    });
    expect(pick("forward_pass", "decode", "count")?.value).toBe(1);
    expect(pick("preemption", null, "total_requests")?.value).toBe(2);
    expect(pick("preemption", "preemption_reasons", "kv_cache_full")?.value).toBe(1);
    expect(pick("preemption", null, "note")).toMatchObject({
      value: null,
      text: "seed 003 fixture",
    });
    expect(rows.filter((r) => r.kind === "forward_pass")).toHaveLength(16);
    expect(rows.some((r) => r.kind === "batch_utilization")).toBe(false);
  });

  it("skips a malformed summary with one line naming the file", () => {
    expect(logs).toContainEqual(
      expect.stringMatching(/batch_utilization_summary\.json: not JSON \(.*\); file skipped$/),
    );
  });

  it("reads metadata.json into one session row", async () => {
    const rows = await readParquetRows(join(dir, "agg/profilemate_sessions.parquet"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      campaign: "c1",
      experiment_id: "e1",
      session: "session_20250618_101500",
      session_id: "20250618_101500",
      start_time_s: 1750241700,
      output_dir: "/tmp/vllm_profiling/session_20250618_101500",
      switches: '{"forward_pass":true}',
      slice_experiment_id: null,
    });
  });
});

describe("kernels.parquet and ops.parquet (seed 001)", () => {
  it("sum complete events per kernel and op, with shares, from plain and gzipped traces", async () => {
    const kernels = await readParquetRows(join(dir, "agg/kernels.parquet"));
    const summary = kernels.map((r) => [
      r.experiment_id,
      r.name,
      r.calls,
      r.total_us,
      r.mean_us,
      r.share,
    ]);
    const expected = [
      ["sm90_xmma_gemm_bf16", 2n, 150, 75, 0.75],
      ["softmax_warp_forward", 1n, 50, 50, 0.25],
    ];
    expect(summary).toEqual([
      ...expected.map((e) => ["e1", ...e]),
      ...expected.map((e) => [null, ...e]),
    ]);
    expect(kernels[2]!.source).toBe(join(extra, "worker0.1234.pt.trace.json.gz"));
    const ops = await readParquetRows(join(dir, "agg/ops.parquet"));
    expect(ops.slice(0, 2).map((r) => [r.name, r.calls, r.total_us, r.share])).toEqual([
      ["aten::mm", 2n, 80, 0.8],
      ["aten::softmax", 1n, 20, 0.2],
    ]);
    expect(logs).toContainEqual(
      expect.stringMatching(
        /trace_step1\.json: 1 complete events without name or duration skipped$/,
      ),
    );
  });

  it("rejects a file that is not a chrome trace, naming it", async () => {
    const bad = join(dir, "trace_bad.json");
    await writeFile(bad, '{"traceEvents": ');
    await expect(readChromeTrace(bad, () => {})).rejects.toThrow(DataError);
    await writeFile(bad, '{"events": []}');
    await expect(readChromeTrace(bad, () => {})).rejects.toThrow(
      /not a chrome trace: no traceEvents/,
    );
  });
});
