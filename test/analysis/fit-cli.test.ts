import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFits } from "../../analysis/fit/index.ts";
import { runCli } from "../helpers/vscale-cli.ts";
import { amdahlRows, writeSyntheticSummary } from "./helpers/synthetic-summary.ts";

/** The real CLI as a process (see test/helpers/vscale-cli.ts). */
const vscale = (args: string[]) => runCli(args);

async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-fit-"));
  await writeSyntheticSummary(dir, [
    ...amdahlRows({ s: 0.1, seed: 1 }),
    ...amdahlRows({ s: 0.3, seed: 2, parallelism: "dp", gpus: [2, 4, 8] }),
    ...amdahlRows({ s: 0.05, seed: 3, users: 64, gpus: [1, 2] }),
    {
      experiment_id: "tp8-u32-failed",
      repeat: 4,
      gpus: 8,
      tp: 8,
      dp: 1,
      status: "failed",
      status_reason: "server crashed",
      output_tokens_per_s: 1,
    },
  ]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("runFits on a summary.parquet", () => {
  it("groups TP and DP separately, shares the N = 1 runs, fits only ok rows", async () => {
    const result = await runFits({ resultsDir: dir, bootstrap: 200, seed: 3 });
    expect(result.groups.map((g) => g.label)).toEqual([
      "users=32 parallelism=dp",
      "users=32 parallelism=tp",
    ]);
    const [dp, tp] = result.groups;
    expect(dp?.distinctN).toEqual([1, 2, 4, 8]);
    expect(tp?.points).toHaveLength(12);
    expect(tp?.experiments).not.toContain("tp8-u32-failed");
    expect(Math.abs((tp?.amdahl.s ?? 0) - 0.1)).toBeLessThan(0.03);
    expect(Math.abs((dp?.amdahl.s ?? 0) - 0.3)).toBeLessThan(0.06);
    expect(result.skipped).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/2 distinct GPU count/) }),
    ]);
  });

  it("writes amdahl_fit.csv and scaling_fits.parquet with one row per group", async () => {
    const result = await runFits({ resultsDir: dir, bootstrap: 100 });
    const csv = await readFile(join(dir, "agg", "amdahl_fit.csv"), "utf8");
    expect(csv.split("\n")[0]).toMatch(
      /^group,campaign,users,prompt_set,model,parallelism,metric,status/,
    );
    expect(csv.trim().split("\n")).toHaveLength(4);
    const rows = await duckRows(
      `SELECT parallelism, status, s, s_ci_low, s_ci_high, bootstrap_b, n_points, usl_sigma, karp_flatt_trend
       FROM '${join(dir, "agg", "scaling_fits.parquet")}' ORDER BY status, parallelism`,
    );
    expect(rows).toHaveLength(3);
    const tp = rows[1] as Record<string, unknown>;
    expect(tp.parallelism).toBe("tp");
    expect(tp.s).toBeCloseTo(result.groups[1]?.amdahl.s ?? Number.NaN, 10);
    expect(Number(tp.bootstrap_b)).toBe(100);
    expect(Number(tp.n_points)).toBe(12);
    expect(rows[2]?.status).toBe("skipped");
    expect(rows[2]?.s).toBeNull();
  });

  it("groups by --by columns only", async () => {
    const result = await runFits({ resultsDir: dir, by: ["users"], bootstrap: 50 });
    expect(result.groups.map((g) => g.group)).toEqual(["users=32"]);
    expect(result.groups[0]?.points).toHaveLength(12 + 9);
  });
});

describe("vscale fit (CLI)", () => {
  it("prints the table and writes both files", async () => {
    const { code, stdout } = await vscale([
      "fit",
      "--results",
      dir,
      "--bootstrap",
      "100",
      "--metric",
      "requests_per_s",
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Scaling fits of requests_per_s/);
    expect(stdout).toMatch(/users=32 parallelism=tp\s+12\s+1,2,4,8/);
    expect(stdout).toMatch(/Karp–Flatt/);
    expect(stdout).toMatch(/Skipped:\n.*need ≥ 3/);
    expect(stdout).toMatch(/amdahl_fit\.csv/);
  });

  it("rejects an unknown --by column with exit 2 and the usable names", async () => {
    const { code, stderr } = await vscale(["fit", "--results", dir, "--by", "userz"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /--by: unknown column "userz".*expected one of campaign, users, prompt_set/,
    );
  });

  it("rejects an unknown metric with exit 2", async () => {
    const { code, stderr } = await vscale(["fit", "--results", dir, "--metric", "tokens"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--metric: unknown metric "tokens"/);
  });

  it("names the missing summary file with exit 2", async () => {
    const { code, stderr } = await vscale(["fit", "--results", join(dir, "nowhere")]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/nowhere\/agg\/summary\.parquet: file not found/);
  });
});

describe("vscale report takes the fit flags", () => {
  it("draws the fits of the metric and grouping it is given, as vscale fit prints them", async () => {
    const run = await vscale([
      "report",
      "--results",
      dir,
      "--metric",
      "requests_per_s",
      "--by",
      "users",
      "--bootstrap",
      "50",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const html = await readFile(join(dir, "report.html"), "utf8");
    expect(html).toContain("Metric <code>requests_per_s</code>");
    expect(html).toContain("B = 50");
    expect(html).not.toContain("Metric <code>output_tokens_per_s</code>");
    const bad = await vscale(["report", "--results", dir, "--metric", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("nope");
  });
});
