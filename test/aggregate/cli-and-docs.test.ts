import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderSchemaDoc, SCHEMA_DOC_PATH } from "../../analysis/aggregate/schema-doc.ts";
import { readParquetRows } from "./duckdb-read.ts";
import { REPO_ROOT } from "./fixtures.ts";
import {
  generatedRequests,
  syntheticInfo,
  writeGeneratedCampaign,
  writeSyntheticExperiment,
} from "./synthetic-campaign.ts";

const BIN = join(REPO_ROOT, "bin/vscale.mjs");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-cli-"));
  for (const campaign of ["alpha", "beta"]) {
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({ campaign, experimentId: "e1" }),
      requests: generatedRequests(`${campaign}-e1`, 500, 3),
    });
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("vscale aggregate", () => {
  it("aggregates one campaign with the SLOs given on the command line", async () => {
    const { code, stdout, stderr } = await run([
      "aggregate",
      "--results",
      dir,
      "--campaign",
      "beta",
      "--slo-ttft-ms",
      "250",
      "--slo-tpot-ms",
      "20",
    ]);
    expect(stderr).toContain("aggregating beta/e1");
    expect(code).toBe(0);
    expect(stdout).toContain(`1 experiments → ${join(dir, "agg")}`);
    const rows = await readParquetRows(join(dir, "agg/summary.parquet"));
    expect(rows).toEqual([
      expect.objectContaining({ campaign: "beta", slo_ttft_ms: 250, slo_tpot_ms: 20 }),
    ]);
  });

  it("exits 2 with one line naming an unknown campaign", async () => {
    const { code, stderr } = await run(["aggregate", "--results", dir, "--campaign", "gamma"]);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      `vscale: ${join(dir, "raw")}: --campaign: no campaign "gamma" (found: alpha, beta)`,
    );
  });

  it("exits 2 for a non-numeric SLO", async () => {
    const { code, stderr } = await run(["aggregate", "--results", dir, "--slo-ttft-ms", "fast"]);
    expect(code).toBe(2);
    expect(stderr).toContain('--slo-ttft-ms: expected a number of milliseconds > 0, got "fast"');
  });
});

describe("docs/schema.md", () => {
  it("is generated from the output schema (run `npx tsx analysis/aggregate/schema-doc.ts`)", async () => {
    expect(await readFile(SCHEMA_DOC_PATH, "utf8")).toBe(renderSchemaDoc());
  });
});

describe("vscale aggregate killed mid-way", () => {
  it("leaves the previous outputs byte for byte as they were", async () => {
    const killDir = await mkdtemp(join(tmpdir(), "vscale-agg-kill-"));
    try {
      await writeGeneratedCampaign(killDir, {
        campaign: "k",
        experiments: 3,
        requestsPerExperiment: 30_000,
      });
      const first = await run(["aggregate", "--results", killDir]);
      expect(first.code).toBe(0);
      const visible = async () =>
        (await readdir(join(killDir, "agg"))).filter((f) => !f.startsWith(".")).sort();
      const digest = async () =>
        Promise.all(
          (await visible()).map(async (f) =>
            createHash("sha256")
              .update(await readFile(join(killDir, "agg", f)))
              .digest("hex"),
          ),
        );
      const before = await digest();
      // Same input, but a different SLO: a finished second run would change summary.parquet.
      const child = spawn(
        process.execPath,
        [BIN, "aggregate", "--results", killDir, "--slo-ttft-ms", "1"],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      await new Promise<void>((resolve, reject) => {
        child.stderr.on("data", (d: Buffer) => {
          if (d.toString().includes("aggregating k/e002")) resolve();
        });
        child.on("close", () => reject(new Error("aggregate finished before it could be killed")));
      });
      child.kill("SIGKILL");
      await new Promise((resolve) => child.on("close", resolve));
      expect(await digest()).toEqual(before);
      expect(await visible()).toEqual([
        "gpu.parquet",
        "requests.parquet",
        "server_metrics.parquet",
        "summary.csv",
        "summary.parquet",
      ]);
    } finally {
      await rm(killDir, { recursive: true, force: true });
    }
  });
});
