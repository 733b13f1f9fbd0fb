/**
 * No orphans, ever (issue 11, items 9 and 10): a campaign killed with SIGKILL
 * or SIGHUP leaves no server running, keeps the records written so far where
 * aggregation finds them, and the next run reaps whatever an earlier run left
 * behind without ever touching a process that merely reused a recorded pid.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processStartTicks } from "../../campaign/proc-start.ts";
import { groupAlive } from "../../campaign/process-group.ts";
import { reapOrphans } from "../../campaign/reap.ts";
import { freePort } from "../../common/free-port.ts";
import { RAW_FILES, StatusSchema } from "../../formats/raw-layout.ts";
import {
  readServerRecord,
  ServerRecordSchema,
  ServerRecordWriter,
  serverFiles,
} from "../../formats/server-record.ts";
import { PARENT_PID_ENV } from "../../sim/parent-watch.ts";
import { BIN } from "../helpers/vscale-cli.ts";
import {
  pidAlive,
  readJson,
  runCli,
  startCli,
  TINY_SERVER,
  tempDir,
  waitFor,
  writeMatrix,
} from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("orphans");
});
afterEach(async () => {
  await dir.remove();
});

const record = async (results: string, campaign: string, group: string) => {
  try {
    return ServerRecordSchema.parse(
      await readJson(join(results, "raw", campaign, "_servers", `${group}.json`)),
    );
  } catch {
    return undefined;
  }
};

const gone = (pid: number) =>
  waitFor(async () => (groupAlive(pid) ? undefined : true), `process group ${pid} to end`, 15_000);

function simMatrix(campaign: string, port: number | "auto", duration = "3s"): string {
  return `
campaign: ${campaign}
seed: 9
server:
  kind: sim
  model: orphan-model
  port: ${port}
  health_timeout: 30s
  args: [--sim-time-scale, "4"]
load:
  engine: node
  mode: closed
  users: 2
  duration: ${duration}
  max_tokens: 8
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
`;
}

/** Start a campaign and wait until its window is open (gauge samples appear). */
async function startInWindow(args: string[], results: string, campaign: string) {
  const cli = startCli(args);
  const server = await waitFor(async () => {
    const r = await record(results, campaign, "g1-tp1");
    const start = r?.starts[0];
    if (!start?.healthy_at) return undefined;
    try {
      const text = await readFile(
        join(results, "raw", campaign, "g1-tp1-r1", RAW_FILES.requests),
        "utf8",
      );
      return text.split("\n").length > 3 ? start : undefined;
    } catch {
      return undefined;
    }
  }, "records of the first window");
  return { cli, pid: server.pid as number };
}

describe("a campaign killed with SIGKILL", () => {
  it("takes its server along, keeps its records readable, and a resumed run on the same fixed port is ok", async () => {
    const port = await freePort("127.0.0.1");
    const file = await writeMatrix(dir.path, simMatrix("kill9", port));
    const results = join(dir.path, "results");
    const args = ["campaign", file, "--results", results, "--no-analyze"];
    const { cli, pid } = await startInWindow(args, results, "kill9");
    cli.child.kill("SIGKILL");
    expect((await cli.done).signal).toBe("SIGKILL");
    await gone(pid);

    // The records streamed so far sit under their final name, and aggregation sees them.
    const expDir = join(results, "raw", "kill9", "g1-tp1-r1");
    const lines = (await readFile(join(expDir, RAW_FILES.requests), "utf8")).split("\n");
    expect(lines.filter((l) => l.trim() !== "").length).toBeGreaterThan(2);
    const agg = await runCli(["aggregate", "--results", results, "--include-incomplete"]);
    expect(agg.code).toBe(0);
    const summary = await readFile(join(results, "agg", "summary.csv"), "utf8");
    expect(summary).toMatch(/g1-tp1-r1,[^\n]*interrupted/);

    const resumed = await runCli(args);
    expect(resumed.stdout).toContain("1 ok, 0 failed");
    expect(resumed.code).toBe(0);
    const status = StatusSchema.parse(await readJson(join(expDir, RAW_FILES.status)));
    expect(status.status).toBe("ok");
    const starts = (await record(results, "kill9", "g1-tp1"))?.starts ?? [];
    expect(starts).toHaveLength(2);
    expect(starts[0]?.stopped_at).not.toBeNull();
    for (const s of starts) expect(groupAlive(s.pid as number)).toBe(false);
  });

  it("leaves workers of a vllm-style server behind only until the next run reaps them", async () => {
    // The leader dies with the runner (parent-death signal); a worker it forked does not.
    const file = await writeMatrix(
      dir.path,
      `
campaign: workers
server:
  kind: vllm
  model: tiny
  port: auto
  health_timeout: 30s
  command: ["${process.execPath}", "${TINY_SERVER}", --port, "{port}", --spawn-worker]
load: { engine: node, mode: closed, users: 1, duration: 2s, max_tokens: 4 }
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
`,
    );
    const results = join(dir.path, "results");
    const args = ["campaign", file, "--results", results, "--no-analyze"];
    const cli = startCli(args);
    const start = await waitFor(async () => {
      const s = (await record(results, "workers", "g1-tp1"))?.starts[0];
      return s?.healthy_at ? s : undefined;
    }, "the tiny server to be healthy");
    const log = serverFiles(join(results, "raw", "workers"), "g1-tp1").log;
    const worker = Number(
      await waitFor(
        async () => /worker (\d+)/.exec(await readFile(log, "utf8"))?.[1],
        "the worker's pid",
      ),
    );
    cli.child.kill("SIGKILL");
    await cli.done;
    const leader = start.pid as number;
    await waitFor(async () => (pidAlive(leader) ? undefined : true), "the leader to die");
    expect(pidAlive(worker)).toBe(true);

    // The next run (its experiment fails: the tiny server serves no completions).
    const next = await runCli(args);
    expect(next.stdout).toContain("stopped 1 server(s) an earlier run had left running");
    await gone(leader);
    expect(pidAlive(worker)).toBe(false);
    const first = (await record(results, "workers", "g1-tp1"))?.starts[0];
    expect(first?.reason).toBe("reaped: left running by an earlier run");
  });
});

describe("SIGHUP (the terminal closed)", () => {
  it("stops like SIGINT: the experiment is interrupted, the server stopped, exit 129", async () => {
    const file = await writeMatrix(dir.path, simMatrix("hup", "auto"));
    const results = join(dir.path, "results");
    const { cli, pid } = await startInWindow(
      ["campaign", file, "--results", results, "--no-analyze"],
      results,
      "hup",
    );
    cli.child.kill("SIGHUP");
    const run = await cli.done;
    expect(run.code).toBe(129);
    expect(groupAlive(pid)).toBe(false);
    const status = StatusSchema.parse(
      await readJson(join(results, "raw", "hup", "g1-tp1-r1", RAW_FILES.status)),
    );
    expect(status.status).toBe("interrupted");
    expect((await record(results, "hup", "g1-tp1"))?.starts[0]?.reason).toBe("interrupted");
  });
});

describe("reaping", () => {
  it("never signals a process whose pid matches a record but whose start time does not", async () => {
    const stranger = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      detached: true,
      stdio: "ignore",
    });
    try {
      const pid = stranger.pid as number;
      await waitFor(async () => (processStartTicks(pid) !== null ? true : undefined), "it to run");
      const campaignDir = join(dir.path, "raw", "c");
      const files = serverFiles(campaignDir, "g1-tp1");
      const writer = await ServerRecordWriter.open(files.json, "g1-tp1", "sim");
      await writer.add({
        pid,
        port: 1,
        url: "http://127.0.0.1:1",
        argv: [],
        env_names: [],
        started_at: new Date().toISOString(),
        healthy_at: null,
        stopped_at: null,
        exit_code: null,
        exit_signal: null,
        reason: null,
        start_ticks: (processStartTicks(pid) as number) - 1,
        runner_pid: 999_999_999,
        runner_start_ticks: 1,
      });
      const notes = await reapOrphans(campaignDir, 1_000);
      expect(notes.map((n) => n.action)).toEqual(["pid-reused"]);
      expect(pidAlive(pid)).toBe(true);
      expect((await readServerRecord(files.json))?.starts[0]?.reason).toMatch(/another process/);
    } finally {
      stranger.kill("SIGKILL");
    }
  });
});

describe("the simulator started by a runner", () => {
  it("exits on its own when that runner dies by SIGKILL", async () => {
    const port = await freePort("127.0.0.1");
    // A stand-in runner: starts the simulator as the campaign does, naming itself as the parent.
    const runner = spawn(
      process.execPath,
      [
        "-e",
        `const { spawn } = require("node:child_process");
         const sim = spawn(process.execPath, [${JSON.stringify(BIN)}, "sim", "serve", "m", "--port", "${port}"],
           { env: { ...process.env, ${PARENT_PID_ENV}: String(process.pid) }, stdio: "ignore", detached: true });
         console.log(sim.pid);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const simPid = Number(
      await new Promise<string>((r) => runner.stdout?.once("data", (c: Buffer) => r(c.toString()))),
    );
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok || undefined,
      "the simulator to listen",
    );
    runner.kill("SIGKILL");
    await waitFor(
      async () => (pidAlive(simPid) ? undefined : true),
      "the simulator to exit",
      15_000,
    );
  });
});
