/** Run the real `vscale` CLI as a child process, as a user would: every CLI test goes through here. */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "../..");
export const BIN = resolve(REPO, "bin/vscale.mjs");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartedCli {
  child: ChildProcess;
  /** Resolves with the whole output when the process has exited. */
  done: Promise<CliRun>;
  /** Output so far, for tests that act while it runs. */
  stdout(): string;
  stderr(): string;
}

/** Start `vscale <args>`; `env` replaces the environment (NO_COLOR is always set). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = process.env): StartedCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: { ...env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<CliRun>((resolveRun) => {
    child.on("close", (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

export function runCli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun> {
  return startCli(args, env).done;
}

/** Poll `probe` every 50 ms until it holds (at most `timeoutMs`). */
export async function until(probe: () => boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
