/**
 * Failures that used to pass as something else (issue 11, items 6, 11, 17,
 * 18): a server frozen mid-window, a prompt file that is a FIFO, an external
 * server that refuses the key, and failures whose cause the console hid.
 */
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openRegularFile } from "../../campaign/regular-file.ts";
import { runCampaign } from "../../campaign/run-campaign.ts";
import { loadPlan } from "../../config/plan.ts";
import { RAW_FILES, StatusSchema } from "../../formats/raw-layout.ts";
import { ServerRecordSchema } from "../../formats/server-record.ts";
import { startSimServer } from "../../sim/server.ts";
import { readParquetRows } from "../aggregate/duckdb-read.ts";
import { readJson, runCli, startCli, tempDir, waitFor, writeMatrix } from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("stalls");
});
afterEach(async () => {
  await dir.remove();
});

const statusOf = async (results: string, campaign: string, id: string) =>
  StatusSchema.parse(await readJson(join(results, "raw", campaign, id, RAW_FILES.status)));

function matrix(campaign: string, server: string, load = ""): string {
  return `
campaign: ${campaign}
seed: 4
server:
  model: stall-model
  health_timeout: 30s
${server}
load:
  engine: node
  mode: closed
  users: 2
  duration: 2s
  max_tokens: 8
  timeout: 3s
${load}
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
`;
}

describe("a server frozen mid-window (SIGSTOP)", () => {
  it("fails the experiment with the window flagged in status.json and the summary", async () => {
    const file = await writeMatrix(
      dir.path,
      matrix("frozen", '  kind: sim\n  port: auto\n  args: [--sim-time-scale, "4"]'),
    );
    const results = join(dir.path, "results");
    const cli = startCli(["campaign", file, "--results", results]);
    const expDir = join(results, "raw", "frozen", "g1-tp1-r1");
    const pid = await waitFor(async () => {
      try {
        const r = ServerRecordSchema.parse(
          await readJson(join(results, "raw", "frozen", "_servers", "g1-tp1.json")),
        );
        await readJson(join(expDir, RAW_FILES.experiment));
        return r.starts[0]?.healthy_at ? (r.starts[0].pid as number) : undefined;
      } catch {
        return undefined;
      }
    }, "the window to start");
    await new Promise((r) => setTimeout(r, 700));
    process.kill(pid, "SIGSTOP");
    try {
      await waitFor(
        async () => await statusOf(results, "frozen", "g1-tp1-r1").catch(() => undefined),
        "status.json",
        60_000,
      );
    } finally {
      // Let it take the runner's SIGTERM.
      process.kill(pid, "SIGCONT");
    }
    const run = await cli.done;
    expect(run.code).toBe(1);
    const status = await statusOf(results, "frozen", "g1-tp1-r1");
    expect(status.status).toBe("failed");
    expect(status.flags).toContain(
      "no after-scrape: /metrics answered before the window but not after it",
    );
    expect(run.stdout).toContain("g1-tp1-r1  failed: the server stalled: no after-scrape");
    const [row] = await readParquetRows(join(results, "agg", "summary.parquet"));
    expect(row?.window_flags).toBe(status.flags?.join("; "));
    expect(row?.status).toBe("failed");
  });
});

describe("a prompt file that turns out to be a FIFO", () => {
  it("is refused without blocking: open never waits for a writer", async () => {
    const fifo = join(dir.path, "pipe");
    execFileSync("mkfifo", [fifo]);
    await expect(openRegularFile(fifo, "prompts.x.file")).rejects.toThrow(
      /is a FIFO \(named pipe\), not a regular file/,
    );
  });

  it("fails its experiment and the campaign goes on to stop its server and return", async () => {
    const file = await writeMatrix(
      dir.path,
      matrix("fifo", '  kind: sim\n  port: auto\n  args: [--sim-time-scale, "4"]'),
    );
    const plan = await loadPlan(file);
    // Planned against a regular file, swapped for a FIFO before the run reads it.
    await rm(join(dir.path, "prompts.txt"));
    execFileSync("mkfifo", [join(dir.path, "prompts.txt")]);
    const results = join(dir.path, "results");
    const result = await runCampaign(plan, { resultsDir: results, stopGraceMs: 3_000 });
    expect(result.outcomes.map((o) => o.status)).toEqual(["failed"]);
    expect(result.outcomes[0]?.reason).toMatch(/prompts\.txt: prompts\.short\.file: is a FIFO/);
    const record = ServerRecordSchema.parse(
      await readJson(join(results, "raw", "fifo", "_servers", "g1-tp1.json")),
    );
    expect(record.starts[0]?.reason).toBe("done");
  });
});

describe("kind: external that refuses the key", () => {
  it("fails at once on 401, not after health_timeout", async () => {
    const server = await startSimServer({ model: "stall-model", port: 0, apiKey: "the-right-key" });
    try {
      const file = await writeMatrix(
        dir.path,
        matrix(
          "refused",
          `  kind: external\n  url: ${server.url}\n  health_timeout: 10m`,
          "  api_key_env: STALL_TEST_KEY",
        ).replace("  health_timeout: 30s\n", ""),
      );
      const results = join(dir.path, "results");
      const env = { ...process.env, STALL_TEST_KEY: "a-wrong-key" };
      const args = ["campaign", file, "--results", results, "--no-analyze"];
      const run = await runCli(args, env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("refused the API key: /v1/models answered 401");
      expect(run.stdout).not.toContain("a-wrong-key");

      // Kept from that run, the failure still fails the campaign, and its cause is shown.
      const again = await runCli(args, env);
      expect(again.code).toBe(1);
      expect(again.stdout).toContain("1 failed earlier (--retry-failed to re-run)");
      expect(again.stdout).toMatch(
        /failed in an earlier run \(kept\):\n {2}g1-tp1-r1 {2}failed: server did not start: .*refused the API key/,
      );
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe("the console summary", () => {
  it("shows the real cause of a server that died at start, its log lines included", async () => {
    const file = await writeMatrix(
      dir.path,
      matrix("cause", '  kind: sim\n  port: auto\n  args: [--block-size, "7"]'),
    );
    const results = join(dir.path, "results");
    const run = await runCli(["campaign", file, "--results", results, "--no-analyze"]);
    expect(run.code).toBe(1);
    const status = await statusOf(results, "cause", "g1-tp1-r1");
    const logLine = status.reason?.split("\n").at(-1)?.trim() ?? "";
    expect(logLine).toContain("--block-size");
    expect(run.stdout).toContain("server exited with code");
    expect(run.stdout).toContain(`      ${logLine}`);
  });
});
