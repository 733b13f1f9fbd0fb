/**
 * The planted server as its own process (for `bench/load.ts` and the guard
 * tests, so the server's work never shares the engine's core). Argument: a
 * JSON Plan; optional second argument: processes (node:cluster workers
 * sharing one port, so at thousands of streams the server is not what
 * saturates). Prints `{"url": …}` on one line once listening; SIGTERM closes it.
 * With VSCALE_PLANTED_STATS_DIR set, SIGUSR2 makes every server process hand
 * over its per-request times (`RequestStat`, what the in-process server keeps
 * in `stats`) as `<pid>-<n>.json` there, the n-th such file of that process:
 * how the bench learns when each first token actually left the server.
 */
import cluster from "node:cluster";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Plan, startPlantedServer } from "./planted-server.ts";

const STATS_DIR = process.env.VSCALE_PLANTED_STATS_DIR;

const plan = JSON.parse(process.argv[2] ?? "{}") as Plan;
const processes = Math.max(1, Number(process.argv[3] ?? "1"));

if (processes > 1 && cluster.isPrimary) {
  const workers = Array.from({ length: processes }, () => cluster.fork());
  let url: string | null = null;
  let listening = 0;
  for (const w of workers) {
    w.on("message", (m: { url: string }) => {
      url ??= m.url;
      if (++listening === processes) process.stdout.write(`${JSON.stringify({ url })}\n`);
    });
  }
  const stop = () => {
    for (const w of workers) w.kill("SIGTERM");
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  process.on("SIGUSR2", () => {
    for (const w of workers) w.process.kill("SIGUSR2");
  });
} else {
  // listen(0) in cluster workers: the primary hands every worker the same port.
  const server = await startPlantedServer({ plan: () => plan, keepBodies: false });
  if (cluster.isWorker) process.send?.({ url: server.url });
  else process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  let handedOver = 0;
  process.on("SIGUSR2", () => {
    if (!STATS_DIR) return;
    const file = join(STATS_DIR, `${process.pid}-${++handedOver}.json`);
    const text = JSON.stringify(server.stats.splice(0));
    // Renamed into place: the reader takes a file only once it is whole.
    void writeFile(`${file}.tmp`, text).then(() => rename(`${file}.tmp`, file));
  });
}
