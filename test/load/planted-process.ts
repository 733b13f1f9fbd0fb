/**
 * The planted server in its own process (planted-server-main.ts), so its
 * work never shares the load engine's event loop: for the saturation-guard
 * tests and `bench/load.ts`.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Plan, RequestStat } from "./planted-server.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface PlantedProcess {
  url: string;
  /**
   * Every request's server-side times since the last call, from all server
   * processes (each hands over its own on SIGUSR2).
   */
  takeStats(): Promise<RequestStat[]>;
  stop(): Promise<void>;
}

export async function startPlantedProcess(plan: Plan, processes = 1): Promise<PlantedProcess> {
  const statsDir = await mkdtemp(join(tmpdir(), "vscale-planted-stats-"));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "test/load/planted-server-main.ts"),
      JSON.stringify(plan),
      String(processes),
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, VSCALE_PLANTED_STATS_DIR: statsDir },
    },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((done, fail) => {
    lines.once("line", done);
    child.once("exit", (code) => fail(new Error(`planted server exited with ${code}`)));
  });
  const { url } = JSON.parse(first) as { url: string };
  let handovers = 0;
  return {
    url,
    async takeStats() {
      const n = ++handovers;
      child.kill("SIGUSR2");
      const ours = (f: string) => f.endsWith(`-${n}.json`);
      for (let waited = 0; ; waited += 20) {
        const files = (await readdir(statsDir)).filter(ours);
        if (files.length === processes) {
          const stats: RequestStat[] = [];
          for (const f of files) {
            stats.push(...(JSON.parse(await readFile(join(statsDir, f), "utf8")) as RequestStat[]));
            await rm(join(statsDir, f));
          }
          return stats;
        }
        if (waited > 30_000) {
          throw new Error(`planted server: ${files.length} of ${processes} stats files after 30 s`);
        }
        await sleep(20);
      }
    },
    stop: () =>
      new Promise<void>((done) => {
        const finish = () => void rm(statsDir, { recursive: true, force: true }).then(done);
        if (child.exitCode !== null) return finish();
        child.once("exit", finish);
        child.kill("SIGTERM");
      }),
  };
}
