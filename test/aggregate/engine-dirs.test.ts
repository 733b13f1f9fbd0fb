/**
 * A killed aggregation leaves its DuckDB folder (spill files, staged request
 * records) in the OS temp dir; the next aggregation removes it, and never the
 * folder of a process still running. Real processes, a private TMPDIR.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startCli, until } from "../helpers/vscale-cli.ts";
import { writeGeneratedCampaign } from "./synthetic-campaign.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-enginedirs-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const engineDirs = (tmp: string) => readdirSync(tmp).filter((n) => n.startsWith("vscale-duckdb-"));

/** Whether an engine folder of `pid` holds a staged request file yet. */
function staging(tmp: string, pid: number): boolean {
  return engineDirs(tmp).some(
    (n) =>
      n.startsWith(`vscale-duckdb-${pid}-`) &&
      readdirSync(join(tmp, n, "scratch")).some((f) => f.startsWith("requests-")),
  );
}

describe("aggregate: DuckDB folders of a killed aggregation", () => {
  it("are removed by the next run; a live process's folder is kept", async () => {
    const results = join(dir, "results");
    await writeGeneratedCampaign(results, {
      campaign: "c1",
      experiments: 4,
      requestsPerExperiment: 15_000,
    });
    const tmp = join(dir, "tmp");
    await mkdir(tmp);
    const env = { ...process.env, TMPDIR: tmp };

    const killed = startCli(["aggregate", "--results", results], env);
    const pid = killed.child.pid!;
    const seen = await until(() => {
      try {
        return staging(tmp, pid);
      } catch {
        return false; // the folder is being made
      }
    }, 30_000);
    killed.child.kill("SIGKILL");
    await killed.done;
    expect(seen, killed.stderr()).toBe(true);
    const left = engineDirs(tmp).filter((n) => n.startsWith(`vscale-duckdb-${pid}-`));
    expect(left).toHaveLength(1);

    // Some other live process's engine folder, planted.
    const live: ChildProcess = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], {
      stdio: "ignore",
    });
    try {
      const liveDir = `vscale-duckdb-${live.pid}-abc123`;
      await mkdir(join(tmp, liveDir, "scratch"), { recursive: true });
      const run = await runCli(["aggregate", "--results", results], env);
      expect(run.code, run.stderr).toBe(0);
      // The killed run's folder is gone, the live one's kept, and the new run removed its own.
      expect(engineDirs(tmp)).toEqual([liveDir]);
    } finally {
      live.kill("SIGKILL");
    }
  }, 90_000);
});
