/**
 * The planted server as its own process (for `bench/load.ts` and the guard
 * tests, so the server's work never shares the engine's core). Argument: a
 * JSON Plan; optional second argument: processes (node:cluster workers
 * sharing one port, so at thousands of streams the server is not what
 * saturates). Prints `{"url": …}` on one line once listening; SIGTERM closes it.
 */
import cluster from "node:cluster";
import { type Plan, startPlantedServer } from "./planted-server.ts";

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
}
