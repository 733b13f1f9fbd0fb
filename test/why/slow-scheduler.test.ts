/**
 * A planted scheduling bottleneck: the simulator's scheduler slowed by
 * `--sim-schedule-delay-ms` (modelled ms added to every step's schedule
 * phase), captured with load.profile, must be classed `scheduling` from the
 * step phases' schedule + update share.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { THRESHOLDS } from "../../analysis/why/classify.ts";
import { duckQuery } from "../aggregate/duckdb-read.ts";
import { type CliRun, runCli, tempDir, writeMatrix } from "../campaign/helpers.ts";

const MATRIX = `
campaign: slowsched
seed: 6
server:
  kind: sim
  model: why-model
  port: auto
  health_timeout: 30s
  start_estimate: 1s
  args: [--sim-time-scale, "0.1", --sim-schedule-delay-ms, "3"]
load:
  engine: node
  mode: closed
  spawn_rate: 16
  warmup: 500ms
  duration: 2s
  workers: 1
  max_tokens: 8
  timeout: 10s
  profile: { at: 0s, for: 2s }
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
  users: [8]
`;

let dir: Awaited<ReturnType<typeof tempDir>>;
let results: string;
let run: CliRun;

beforeAll(async () => {
  dir = await tempDir("slowsched");
  const matrix = await writeMatrix(dir.path, MATRIX);
  results = join(dir.path, "results");
  run = await runCli(["campaign", matrix, "--results", results, "--no-analyze"]);
  if (run.code === 0) run = await runCli(["aggregate", "--results", results]);
}, 60_000);

afterAll(async () => {
  await dir.remove();
});

describe("slowed scheduler", () => {
  it("is classed scheduling from the step phases", async () => {
    expect(run.code).toBe(0);
    const [row] = await duckQuery(
      `SELECT bottleneck, bottleneck_evidence FROM '${join(results, "agg", "summary.parquet")}'`,
    );
    // Under CPU contention (test files run side by side) the client guard may trip and
    // take precedence; the server-side class is then kept in the evidence.
    const evidence = String(row?.bottleneck_evidence);
    if (row?.bottleneck === "client") expect(evidence).toContain("server: scheduling (");
    else expect(row?.bottleneck).toBe("scheduling");
    const share = Number(/schedule_update_share=([0-9.]+)/.exec(evidence)?.[1]);
    expect(share).toBeGreaterThanOrEqual(THRESHOLDS.scheduleShare);
  });
});
