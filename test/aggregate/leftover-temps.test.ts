/**
 * An aggregation killed mid-write leaves its temporary outputs in agg/ (it
 * never reaches its clean-up). The next run removes them and still writes
 * the right tables; a temporary whose writer is still running is left alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { startCli, until } from "../helpers/vscale-cli.ts";
import { duckQuery } from "./duckdb-read.ts";
import { writeGeneratedCampaign } from "./synthetic-campaign.ts";

const TEMP = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;
const OUTPUTS = ["requests.parquet", "summary.parquet", "summary.csv"];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-leftover-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const temps = async (agg: string) => (await readdir(agg)).filter((n) => TEMP.test(n));
const digest = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

describe("aggregate: temporaries of a killed aggregation", () => {
  it("are removed by the next run, which writes the same tables as a clean one", async () => {
    const killed = join(dir, "killed");
    await writeGeneratedCampaign(killed, {
      campaign: "c1",
      experiments: 4,
      requestsPerExperiment: 15_000,
    });
    const clean = join(dir, "clean");
    await cp(join(killed, "raw"), join(clean, "raw"), { recursive: true });
    const agg = join(killed, "agg");

    const cli = startCli(["aggregate", "--results", killed]);
    const seen = await until(() => {
      try {
        return readdirSync(agg).some((n) => TEMP.test(n));
      } catch {
        return false;
      }
    }, 30_000);
    cli.child.kill("SIGKILL");
    const { signal } = await cli.done;
    expect(seen, cli.stderr()).toBe(true);
    expect(signal).toBe("SIGKILL");
    const left = await temps(agg);
    expect(left.length).toBeGreaterThan(0);

    const logs: string[] = [];
    await aggregate({ resultsDir: killed, log: (l) => logs.push(l) });
    expect(await temps(agg)).toEqual([]);
    for (const name of left) {
      expect(logs).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^removed ${join(agg, name)}: left by an aggregation \\(pid ${cli.child.pid}\\) that did not finish$`,
          ),
        ),
      );
    }
    await aggregate({ resultsDir: clean });
    for (const f of OUTPUTS) {
      expect(await digest(join(agg, f)), f).toBe(await digest(join(clean, "agg", f)));
    }
    const [count] = await duckQuery(
      `SELECT count(*) AS n FROM read_parquet('${join(agg, "requests.parquet")}')`,
    );
    expect(count!.n).toBe(60_000n);
  }, 90_000);

  it("keeps a temporary whose writer is alive, and files that are not temporaries", async () => {
    const results = join(dir, "planted");
    await writeGeneratedCampaign(results, {
      campaign: "c1",
      experiments: 1,
      requestsPerExperiment: 10,
    });
    const agg = join(results, "agg");
    await mkdir(agg, { recursive: true });
    const dead = await deadPid();
    // A writer still at work: some other live process.
    const live: ChildProcess = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], {
      stdio: "ignore",
    });
    try {
      const planted = {
        dead: `.summary.parquet.${dead}.0badc0de.tmp`,
        deadCsv: `.summary.csv.${dead}.12345678.tmp`,
        live: `.requests.parquet.${live.pid}.abcdef01.tmp`,
        other: ".notes.tmp",
      };
      for (const name of Object.values(planted)) await writeFile(join(agg, name), "half a file");
      await aggregate({ resultsDir: results });
      const names = await readdir(agg);
      expect(names).not.toContain(planted.dead);
      expect(names).not.toContain(planted.deadCsv);
      expect(names).toContain(planted.live);
      expect(names).toContain(planted.other);
      const [row] = await duckQuery(
        `SELECT count(*) AS n FROM read_parquet('${join(agg, "summary.parquet")}')`,
      );
      expect(row!.n).toBe(1n);
    } finally {
      live.kill("SIGKILL");
    }
  });
});
