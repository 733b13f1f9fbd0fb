/** Shared by the campaign tests: fixture paths, temp dirs, a tiny server group. */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerGroup } from "../../config/expand.ts";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, "fixtures");
export const TINY_SERVER = join(FIXTURES, "tiny-server.mjs");

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `vscale-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A directory holding the fake nvidia-smi (and its fixtures), to put first on PATH. */
export async function fakeNvidiaSmiDir(dir: string): Promise<string> {
  for (const f of ["nvidia-smi", "query-gpu-loop-load.csv", "query-gpu-inventory-noheader.csv"]) {
    await copyFile(join(FIXTURES, f), join(dir, f));
  }
  return dir;
}

/** A `kind: vllm`-style group whose command is the tiny server. */
export function tinyGroup(
  extraArgs: string[] = [],
  overrides: Partial<ServerGroup> = {},
): ServerGroup {
  return {
    id: "g1-tp1",
    kind: "vllm",
    model: "tiny",
    host: "127.0.0.1",
    port: "auto",
    argv: [process.execPath, TINY_SERVER, "--port", "{port}", ...extraArgs],
    env: {},
    url: undefined,
    gpus: 1,
    healthTimeoutMs: 20_000,
    startEstimateMs: 0,
    experimentIds: [],
    ...overrides,
  };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export { type CliRun, runCli, startCli } from "../helpers/vscale-cli.ts";

/** A matrix file (plus the prompt file it names) in `dir`. */
export async function writeMatrix(dir: string, yaml: string): Promise<string> {
  await writeFile(join(dir, "prompts.txt"), PROMPTS);
  const file = join(dir, "matrix.yaml");
  await writeFile(file, yaml);
  return file;
}

const PROMPTS = [
  "Explain tensor parallelism in two sentences.",
  "What limits the speed-up of a parallel program?",
  "Summarise Amdahl's law for a systems engineer.",
  "Why does batching raise GPU throughput?",
  "List three causes of tail latency in model serving.",
  "What is a KV cache and why does it grow?",
  "Describe continuous batching.",
  "How does an all-reduce work?",
].join("\n");

export async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8"));
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
