/**
 * The planted server as its own process (for `bench/load.ts`, so the server's
 * work never shares the engine's core). Argument: a JSON Plan. Prints
 * `{"url": …}` on one line once listening; SIGTERM closes it.
 */
import { type Plan, startPlantedServer } from "./planted-server.ts";

const plan = JSON.parse(process.argv[2] ?? "{}") as Plan;
const server = await startPlantedServer({ plan: () => plan, keepBodies: false });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
