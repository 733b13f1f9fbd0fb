/**
 * Missing means null, and is warned about: an `ok` experiment whose
 * requests.ndjson is absent, empty, all bad lines or a directory must not
 * feed `requests_per_s = 0` to the fit, and a step-CSV row with an empty
 * cell is not a 0-second step. Run through the real `vscale aggregate`
 * process: a directory where a file belongs gets one line, not a stack.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimentDir, RAW_FILES } from "../../formats/raw-layout.ts";
import { type CliRun, runCli } from "../helpers/vscale-cli.ts";
import { type DuckValue, readParquetRows } from "./duckdb-read.ts";
import { syntheticInfo, syntheticRequest, writeSyntheticExperiment } from "./synthetic-campaign.ts";

const STEP_CSV = "execution_stats_1_1.0_0.0_m_sharegpt.csv";

let dir: string;
let run: CliRun;
const rows = new Map<string, Record<string, DuckValue>>();
const requestsOf = (id: string) => join(experimentDir(dir, "c1", id), RAW_FILES.requests);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-missing-"));
  const cases: Record<string, { requestsText?: string; requests?: boolean }> = {
    good: { requests: true },
    empty: { requestsText: "" },
    missing: {},
    "all-bad": { requestsText: '{"experiment_id": \n{oops\n' },
    dir: {},
  };
  for (const [id, c] of Object.entries(cases)) {
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({ experimentId: id }),
      requestsText: c.requestsText,
      requests: c.requests ? [syntheticRequest({ experiment_id: id })] : undefined,
      // Every one of them says `ok`: the runner's word is not taken for data.
      status: {
        status: "ok",
        reason: null,
        finished_at: "2026-05-29T00:00:00.000Z",
        requests: c.requests ? 1 : 0,
      },
      extraFiles:
        id === "good"
          ? {
              [STEP_CSV]:
                "scheduler_time,execute_time,update_time,num_scheduled_tokens\n" +
                "0.001,0.008,0.001,{}\n" +
                "0.001,,0.001,{}\n" +
                " ,0.004,0.001,{}\n" +
                "0.002,0.006\n",
            }
          : {},
    });
  }
  await mkdir(requestsOf("dir"));
  run = await runCli(["aggregate", "--results", dir]);
  for (const row of await readParquetRows(join(dir, "agg/summary.parquet"))) {
    rows.set(String(row.experiment_id), row);
  }
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("aggregate: an experiment with no request records", () => {
  it("exits 0 and warns in one line per file, with no stack trace", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    const left = "request figures left empty";
    expect(run.stderr).toContain(`${requestsOf("empty")}: empty; ${left}`);
    expect(run.stderr).toContain(`${requestsOf("missing")}: missing; ${left}`);
    expect(run.stderr).toContain(`${requestsOf("dir")}: is a directory, not a file; ${left}`);
    expect(run.stderr).toContain(`${requestsOf("all-bad")}:2: not JSON`);
    expect(run.stderr).toContain(
      `${requestsOf("all-bad")}: no valid request records (every line was skipped); ${left}`,
    );
  });

  it("has null request figures, not zeros, and keeps its window and SLOs", () => {
    expect(rows.get("good")).toMatchObject({ requests_ok: 1n, requests_per_s: 0.1 });
    for (const id of ["empty", "missing", "all-bad", "dir"]) {
      expect(rows.get(id), id).toMatchObject({
        status: "ok",
        window_s: 10,
        slo_ttft_ms: 2000,
        requests_ok: null,
        requests_failed: null,
        errors_timeout: null,
        error_rate: null,
        requests_per_s: null,
        output_tokens_per_s: null,
        ttft_ms_p50: null,
        goodput_requests_per_s: null,
      });
    }
  });
});

describe("aggregate: step-CSV rows with empty cells", () => {
  it("are skipped with file:line and the column, never read as 0-second phases", async () => {
    const file = join(experimentDir(dir, "c1", "good"), STEP_CSV);
    expect(run.stderr).toContain(`${file}:3: execute_time: empty; row skipped`);
    expect(run.stderr).toContain(`${file}:4: scheduler_time: empty; row skipped`);
    expect(run.stderr).toContain(`${file}:5: expected 4 fields, found 2; row skipped`);
    const steps = await readParquetRows(join(dir, "agg/step_phases.parquet"));
    expect(steps.map((r) => [r.step, r.execute_s])).toEqual([[0n, 0.008]]);
  });
});
