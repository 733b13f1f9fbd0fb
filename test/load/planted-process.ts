/**
 * The planted server in its own process (planted-server-main.ts), so its
 * work never shares the load engine's event loop: for the saturation-guard
 * tests and `bench/load.ts`.
 */
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Plan } from "./planted-server.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface PlantedProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startPlantedProcess(plan: Plan, processes = 1): Promise<PlantedProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "test/load/planted-server-main.ts"),
      JSON.stringify(plan),
      String(processes),
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((done, fail) => {
    lines.once("line", done);
    child.once("exit", (code) => fail(new Error(`planted server exited with ${code}`)));
  });
  const { url } = JSON.parse(first) as { url: string };
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}
