/**
 * The planted-class tests' shared frame: one real `vscale campaign` against
 * the simulator in a temp folder (run once before the file's tests, removed
 * after), its summary rows read back with DuckDB, and the check that a row
 * has its planted class.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { duckQuery } from "../aggregate/duckdb-read.ts";
import { type CliRun, runCli, tempDir, writeMatrix } from "../campaign/helpers.ts";

/** The matrix's `server` section: the simulator on a free port, with these flags. */
export function simServer(...args: string[]): string {
  return `server:
  kind: sim
  model: why-model
  port: auto
  health_timeout: 30s
  start_estimate: 1s
  args: [${args.map((a) => JSON.stringify(a)).join(", ")}]`;
}

export interface PlantedCampaign {
  /** The `results` folder (set once the campaign ran). */
  readonly results: string;
  /** The campaign's run (`vscale aggregate`'s when `analyze: false` and the campaign passed). */
  readonly run: CliRun;
  /** `summary.parquet`'s rows, by experiment id. */
  summary(): Promise<Record<string, Record<string, unknown>>>;
}

/**
 * Registers the campaign to run before the file's tests. `analyze: false`
 * skips the fit and report (`--no-analyze`) and aggregates alone.
 */
export function plantedCampaign(
  name: string,
  matrix: string,
  opts: { analyze?: boolean; timeoutMs?: number } = {},
): PlantedCampaign {
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  const state = { results: "", run: undefined as CliRun | undefined };
  beforeAll(async () => {
    dir = await tempDir(name);
    const file = await writeMatrix(dir.path, matrix);
    state.results = join(dir.path, "results");
    const analyze = opts.analyze ?? true;
    let run = await runCli([
      "campaign",
      file,
      "--results",
      state.results,
      ...(analyze ? [] : ["--no-analyze"]),
    ]);
    if (!analyze && run.code === 0) run = await runCli(["aggregate", "--results", state.results]);
    state.run = run;
  }, opts.timeoutMs ?? 60_000);
  afterAll(async () => {
    await dir?.remove();
  });
  return {
    get results() {
      return state.results;
    },
    get run() {
      if (state.run === undefined) throw new Error("the planted campaign has not run");
      return state.run;
    },
    async summary() {
      const rows = await duckQuery(
        `SELECT * FROM '${join(state.results, "agg", "summary.parquet")}' ORDER BY experiment_id`,
      );
      return Object.fromEntries(rows.map((r) => [String(r.experiment_id), r]));
    },
  };
}

/**
 * The row has its planted class. The client guard may trip under CPU
 * contention (test files run side by side) and take precedence; the
 * server-side class is then kept in the evidence.
 */
export function expectPlantedClass(
  row: Record<string, unknown> | undefined,
  planted: string,
): void {
  const evidence = String(row?.bottleneck_evidence);
  if (row?.bottleneck === "client") expect(evidence).toContain(`server: ${planted} (`);
  else expect(row?.bottleneck, String(row?.experiment_id)).toBe(planted);
}
