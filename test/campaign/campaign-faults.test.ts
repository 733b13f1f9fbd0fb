/**
 * The campaign under failure, with real simulator processes: a server that
 * crashes mid-experiment, Ctrl-C in the middle of a campaign, and a server
 * that never becomes healthy. No server may survive any of them.
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { groupAlive } from "../../campaign/process-group.ts";
import { RAW_FILES, type Status, StatusSchema } from "../../formats/raw-layout.ts";
import { ServerRecordSchema } from "../../formats/server-record.ts";
import { hasK6 } from "../../load/k6/runner.ts";
import { pidAlive, readJson, runCli, startCli, tempDir, waitFor, writeMatrix } from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("faults");
});
afterEach(async () => {
  await dir.remove();
});

const status = async (results: string, campaign: string, id: string): Promise<Status> =>
  StatusSchema.parse(await readJson(join(results, "raw", campaign, id, RAW_FILES.status)));

const serverRecord = async (results: string, campaign: string, group: string) =>
  ServerRecordSchema.parse(
    await readJson(join(results, "raw", campaign, "_servers", `${group}.json`)),
  );

function matrix(campaign: string, server: string, load: string, factors: string): string {
  return `
campaign: ${campaign}
seed: 3
server:
  kind: sim
  model: fault-model
  port: auto
${server}
load:
  engine: node
  max_tokens: 8
  timeout: 5s
${load}
prompts:
  short: { file: prompts.txt }
factors:
${factors}
`;
}

describe("campaign failures", () => {
  it("fails the experiment a crashing server was in, restarts it, and goes on", async () => {
    // Open loop at a constant 20 req/s for 2 s: 40 requests per experiment,
    // so the server (crashing at its 60th request) dies inside the second one.
    const file = await writeMatrix(
      dir.path,
      matrix(
        "crash",
        '  health_timeout: 30s\n  args: [--sim-crash-after, "60", --sim-time-scale, "4"]',
        "  mode: open\n  arrival: constant\n  duration: 2s",
        "  gpus: [1]\n  rate: [20, 21, 22]",
      ),
    );
    const results = join(dir.path, "results");
    const run = await runCli(["campaign", file, "--results", results, "--no-analyze"]);
    expect(run.code).toBe(1);
    const [a, b, c] = await Promise.all(
      ["g1-tp1-rate20-r1", "g1-tp1-rate21-r1", "g1-tp1-rate22-r1"].map((id) =>
        status(results, "crash", id),
      ),
    );
    expect(a?.status).toBe("ok");
    expect(b?.status).toBe("failed");
    expect(b?.reason).toMatch(/server exited with code 1 during the experiment/);
    expect(c?.status).toBe("ok");
    expect(run.stdout).toContain("g1-tp1-rate21-r1  failed: server exited with code 1");

    const record = await serverRecord(results, "crash", "g1-tp1");
    expect(record.starts.map((s) => s.reason)).toEqual(["crashed", "done"]);
    expect(record.starts[0]?.exit_code).toBe(1);
    for (const s of record.starts) expect(pidAlive(s.pid as number)).toBe(false);
  });

  it("an experiment in which no request succeeded is failed, not ok, naming the first failure", async () => {
    const file = await writeMatrix(
      dir.path,
      matrix(
        "allfail",
        '  health_timeout: 30s\n  args: [--sim-fail-rate, "1", --sim-time-scale, "4"]',
        "  mode: closed\n  users: 2\n  warmup: 200ms\n  duration: 1s",
        "  gpus: [1]",
      ),
    );
    const results = join(dir.path, "results");
    const run = await runCli(["campaign", file, "--results", results, "--no-analyze"]);
    expect(run.code).toBe(1);
    const s = await status(results, "allfail", "g1-tp1-r1");
    expect(s.status).toBe("failed");
    // The reason names the first failure in the server's own words, not a count alone.
    expect(s.reason).toMatch(
      /^no request succeeded \(\d+ failed; first: HTTP 500: simulated engine failure \(--sim-fail-rate\)\)$/,
    );
    expect(run.stdout).toContain("g1-tp1-r1  failed: no request succeeded");
  });

  it("on SIGINT stops the server group, marks the running experiment interrupted, and resumes", async () => {
    const file = await writeMatrix(
      dir.path,
      matrix(
        "sigint",
        '  health_timeout: 30s\n  args: [--sim-time-scale, "2"]',
        "  mode: closed\n  users: 4\n  warmup: 500ms\n  duration: 2s",
        "  gpus: [1, 2]",
      ),
    );
    const results = join(dir.path, "results");
    const first = "g1-tp1-r1";
    const second = "g2-tp2-r1";
    const expDir = (id: string) => join(results, "raw", "sigint", id);
    const cli = startCli(["campaign", file, "--results", results, "--no-analyze"]);
    // Interrupt inside the second experiment's window (gauge sampling starts with it).
    await waitFor(
      async () => (existsSync(join(expDir(second), RAW_FILES.metricsSamples)) ? true : undefined),
      "the second experiment to start",
    );
    await new Promise((r) => setTimeout(r, 500));
    cli.child.kill("SIGINT");
    const run = await cli.done;
    expect(run.code).toBe(130);

    const record = await serverRecord(results, "sigint", "g2-tp2");
    const pid = record.starts[0]?.pid as number;
    expect(pidAlive(pid)).toBe(false);
    expect(groupAlive(pid)).toBe(false);
    expect(record.starts[0]?.reason).toBe("interrupted");
    expect((await status(results, "sigint", first)).status).toBe("ok");
    const interrupted = await status(results, "sigint", second);
    expect(interrupted.status).toBe("interrupted");
    const firstStatusMtime = (await stat(join(expDir(first), RAW_FILES.status))).mtimeMs;

    const again = await runCli(["campaign", file, "--results", results, "--no-analyze"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("1 ok, 0 failed, 0 interrupted; skipped 1 already ok");
    expect((await status(results, "sigint", second)).status).toBe("ok");
    // The finished experiment was left alone, and its server never restarted.
    expect((await stat(join(expDir(first), RAW_FILES.status))).mtimeMs).toBe(firstStatusMtime);
    expect((await serverRecord(results, "sigint", "g1-tp1")).starts).toHaveLength(1);
    expect((await serverRecord(results, "sigint", "g2-tp2")).starts).toHaveLength(2);
  });

  it("fails a group whose server never becomes healthy within health_timeout", async () => {
    const file = await writeMatrix(
      dir.path,
      matrix(
        "unhealthy",
        '  health_timeout: 2s\n  args: [--sim-startup-delay, "60s"]',
        "  mode: closed\n  users: 2\n  duration: 1s",
        "  gpus: [1, 2]\n  users: [2, 3]",
      ),
    );
    const results = join(dir.path, "results");
    const run = await runCli(["campaign", file, "--results", results, "--no-analyze"]);
    expect(run.code).toBe(1);
    for (const id of ["g1-tp1-u2-r1", "g1-tp1-u3-r1", "g2-tp2-u2-r1", "g2-tp2-u3-r1"]) {
      const s = await status(results, "unhealthy", id);
      expect(s.status).toBe("failed");
      expect(s.reason).toMatch(/server did not start: .*not healthy within 2 s/);
    }
    for (const group of ["g1-tp1", "g2-tp2"]) {
      const record = await serverRecord(results, "unhealthy", group);
      expect(record.starts).toHaveLength(1);
      expect(record.starts[0]?.reason).toBe("unhealthy");
      expect(groupAlive(record.starts[0]?.pid as number)).toBe(false);
    }
    expect(run.stdout).toContain("0 ok, 4 failed");
    expect(existsSync(join(results, "raw", "unhealthy", "_servers", "g1-tp1.log"))).toBe(true);
  });
});

describe("the k6 engine", () => {
  it("is refused up front, naming load.engine, when k6 is not installed", async () => {
    if (await hasK6()) {
      console.log("k6 is installed: the refusal path is not exercised here");
      return;
    }
    const file = await writeMatrix(
      dir.path,
      matrix(
        "k6",
        "  health_timeout: 30s",
        "  engine: k6\n  mode: closed\n  users: 2\n  duration: 1s",
        "  gpus: [1]",
      ).replace("  engine: node\n", ""),
    );
    const results = join(dir.path, "results");
    const run = await runCli(["campaign", file, "--results", results, "--no-analyze"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("load.engine: load.engine is k6, but k6 is not on PATH");
    expect(existsSync(join(results, "raw", "k6", "_servers"))).toBe(false);
  });
});
