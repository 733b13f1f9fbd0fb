/**
 * One computation per number: the records of a real `vscale load` run give
 * the same counts, errors and TTFT/ITL/E2E percentiles in its summary as in
 * `summary.parquet` once `vscale aggregate` has run over them (read back with
 * DuckDB). The planted server stalls one gap of every request, so the pooled
 * ITL p99 must show the stall while the per-request mean gap must not.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WindowFigures } from "../../stats/request-window.ts";
import { runCli } from "../helpers/vscale-cli.ts";
import { type PlantedServer, startPlantedServer } from "../load/planted-server.ts";
import { readParquetRows } from "./duckdb-read.ts";
import { syntheticInfo, writeSyntheticExperiment } from "./synthetic-campaign.ts";

const ITL_MS = 3;
const STALL_MS = 80;
const TOKENS = 12;

let dir: string;
let server: PlantedServer;
let summary: WindowFigures & { windowStartUs: number; windowEndUs: number };
let row: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-load-agg-"));
  server = await startPlantedServer({
    plan: (_body, i) => ({
      ttftMs: 5 + (i % 5),
      itlMs: ITL_MS,
      tokens: TOKENS,
      stall: { beforeToken: 6, ms: STALL_MS },
      // Every 7th request fails: errors must agree too.
      ...(i % 7 === 3 ? { fault: "http500" as const } : {}),
    }),
  });
  const prompts = join(dir, "prompts.txt");
  await writeFile(prompts, "one\ntwo\nthree\n");
  const out = join(dir, "requests.ndjson");
  const load = await runCli([
    "load",
    ...["--url", server.url, "--model", "planted-model", "--prompts", prompts],
    ...["--users", "4", "--warmup", "300ms", "--duration", "1500ms"],
    ...["--max-tokens", String(TOKENS), "--out", out, "--json"],
    // The id the experiment folder below has: another experiment's records are refused.
    ...["--experiment-id", "e1"],
  ]);
  expect(load.code, load.stderr).toBe(0);
  summary = JSON.parse(load.stdout);
  // The campaign runner's layout around the very records `vscale load` wrote.
  const results = join(dir, "results");
  await writeSyntheticExperiment(results, {
    info: syntheticInfo({ windowStartUs: summary.windowStartUs, windowEndUs: summary.windowEndUs }),
    requestsText: await readFile(out, "utf8"),
  });
  const agg = await runCli(["aggregate", "--results", results]);
  expect(agg.code, agg.stderr).toBe(0);
  row = (await readParquetRows(join(results, "agg/summary.parquet")))[0]!;
}, 60_000);

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("vscale load's summary = summary.parquet, same records", () => {
  it("counts the same requests and errors", () => {
    expect(summary.requestsOk).toBeGreaterThan(20);
    expect(summary.requestsFailed).toBeGreaterThan(0);
    expect(row.requests_ok).toBe(BigInt(summary.requestsOk));
    expect(row.requests_failed).toBe(BigInt(summary.requestsFailed));
    expect(row.errors_http_5xx).toBe(BigInt(summary.errors.http_5xx!));
    expect(row.errors_cancelled).toBe(BigInt(summary.errors.cancelled ?? 0));
    expect(row.requests_per_s).toBe(summary.reqPerS);
    expect(row.output_tokens_per_s).toBe(summary.outputTokPerS);
    expect(row.error_rate).toBe(summary.errorRate);
  });

  it("gives the same TTFT, TPOT, ITL and E2E mean and percentiles", () => {
    const columns = {
      ttft_ms: "ttftMs",
      tpot_ms: "tpotMs",
      itl_ms: "itlMs",
      itl_request_mean_ms: "itlRequestMeanMs",
      e2e_ms: "e2eMs",
    } as const;
    for (const [column, figure] of Object.entries(columns)) {
      const d = summary.latency[figure];
      expect(d.count, column).toBeGreaterThan(0);
      for (const stat of ["mean", "p50", "p90", "p95", "p99"] as const) {
        expect(row[`${column}_${stat}`], `${column}_${stat}`).toBe(d[stat]);
      }
      expect(row[`${column}_n`], `${column}_n`).toBe(BigInt(d.count));
    }
  });

  it("pooled ITL shows the stalled gap in its p99; the per-request mean does not", () => {
    // 11 gaps a request, one of them ≈ ITL + STALL: 9% of all gaps.
    expect(row.itl_ms_p50 as number).toBeLessThan(ITL_MS + 10);
    expect(row.itl_ms_p99 as number).toBeGreaterThan(STALL_MS);
    // One value a request: its p99 would need 100 requests, the p90 says the same here.
    expect(row.itl_request_mean_ms_p90 as number).toBeLessThan(STALL_MS / 2);
  });
});
