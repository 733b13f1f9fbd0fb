/**
 * The guard's figures travel from experiment.json (as the runner writes them)
 * into summary.parquet's client_* columns, read back with DuckDB; a run
 * without them (k6, older runs) has nulls and a warning, never zeros.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { clientGuard } from "../../load/client-guard.ts";
import { readParquetRows } from "../aggregate/duckdb-read.ts";
import {
  syntheticInfo,
  syntheticRequest,
  T0_US,
  writeSyntheticExperiment,
} from "../aggregate/synthetic-campaign.ts";

let dir: string;
const logs: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-client-summary-"));
  const requests = [syntheticRequest({ start_us: T0_US + 1000, end_us: T0_US + 200_000 })];
  const hot = clientGuard([
    {
      loop_lag_ms_p99: 35,
      send_lag_ms_p99: 80,
      cpu_pct: 99,
      send_lag_samples: 900,
      read_wait_ms_p99: 12.5,
    },
    { loop_lag_ms_p99: 2, send_lag_ms_p99: 1, cpu_pct: 40, send_lag_samples: 800 },
  ]);
  await writeSyntheticExperiment(dir, {
    info: { ...syntheticInfo({ experimentId: "hot" }), client: hot },
    requests,
  });
  const { client: _none, ...older } = syntheticInfo({ experimentId: "old" });
  await writeSyntheticExperiment(dir, { info: older, requests });
  await aggregate({ resultsDir: dir, log: (l) => logs.push(l) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("client_* summary columns", () => {
  it("are the worst worker's figures and the verdict; null with a warning when not measured", async () => {
    const rows = await readParquetRows(join(dir, "agg", "summary.parquet"), "experiment_id");
    const [hot, old] = rows;
    expect(hot).toMatchObject({
      experiment_id: "hot",
      client_loop_lag_ms_p99: 35,
      client_send_lag_ms_p99: 80,
      client_read_wait_ms_p99: 12.5,
      client_cpu_pct: 99,
      client_limited: true,
    });
    expect(Number(hot?.client_workers)).toBe(2);
    expect(old).toMatchObject({
      client_limited: null,
      client_cpu_pct: null,
      client_read_wait_ms_p99: null,
    });
    expect(logs.join("\n")).toMatch(/old.*no client figures/);
  });
});
