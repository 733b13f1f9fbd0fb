import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitHealthy } from "../../campaign/health.ts";
import { groupAlive, liveGroupPids, spawnGroup } from "../../campaign/process-group.ts";
import { ServerError } from "../../common/errors.ts";
import { freePort } from "../../common/free-port.ts";
import { pidAlive, TINY_SERVER, tempDir } from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("pg");
});
afterEach(async () => {
  await dir.remove();
});

async function workerPid(log: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const match = /worker (\d+)/.exec(await readFile(log, "utf8").catch(() => ""));
    if (match) return Number(match[1]);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the worker never reported its pid");
}

describe("spawnGroup", () => {
  it("stops the leader and the workers it forked with one SIGTERM to the group", async () => {
    const port = await freePort();
    const log = join(dir.path, "server.log");
    const proc = await spawnGroup({
      argv: [process.execPath, TINY_SERVER, "--port", String(port), "--spawn-worker"],
      env: process.env,
      logFile: log,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy({ url, model: "tiny", timeoutMs: 20_000, exited: proc.exited });
    const worker = await workerPid(log);
    expect(pidAlive(worker)).toBe(true);
    expect(liveGroupPids()).toContain(proc.pid);

    const exit = await proc.stop(5_000);
    expect(exit.code).toBe(0);
    expect(groupAlive(proc.pid)).toBe(false);
    expect(pidAlive(proc.pid)).toBe(false);
    expect(pidAlive(worker)).toBe(false);
    expect(liveGroupPids()).not.toContain(proc.pid);
    expect(await readFile(log, "utf8")).toContain("SIGTERM: shutting down");
  });

  it("SIGKILLs a server that ignores SIGTERM once the grace period is over", async () => {
    const port = await freePort();
    const proc = await spawnGroup({
      argv: [process.execPath, TINY_SERVER, "--port", String(port), "--ignore-sigterm"],
      env: process.env,
      logFile: join(dir.path, "server.log"),
    });
    await waitHealthy({ url: `http://127.0.0.1:${port}`, model: "tiny", timeoutMs: 20_000 });
    const exit = await proc.stop(300);
    expect(exit.signal).toBe("SIGKILL");
    expect(groupAlive(proc.pid)).toBe(false);
  });

  it("names a missing executable", async () => {
    await expect(
      spawnGroup({
        argv: ["vscale-no-such-command-xyz"],
        env: process.env,
        logFile: join(dir.path, "x.log"),
      }),
    ).rejects.toThrow(ServerError);
    await expect(
      spawnGroup({
        argv: ["vscale-no-such-command-xyz"],
        env: process.env,
        logFile: join(dir.path, "x.log"),
      }),
    ).rejects.toThrow(/command not found: vscale-no-such-command-xyz/);
  });
});
