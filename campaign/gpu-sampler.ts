/**
 * GPU data from `nvidia-smi`: the inventory once per experiment and a 1 s
 * sampling loop (`--query-gpu … -lms 1000`) written to gpu.csv exactly as
 * printed, so aggregation parses what the tool really emits. Without
 * nvidia-smi on PATH nothing is sampled and experiment.json says so.
 */
import { execFile, spawn } from "node:child_process";
import { accessSync, closeSync, constants, openSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { GPU_QUERY_FIELDS, type GpuInfo } from "../formats/raw-layout.ts";

export const NO_NVIDIA_SMI_NOTE = "nvidia-smi not found: no GPU data taken";

const INVENTORY_FIELDS = "index,name,uuid,memory.total,driver_version,pci.bus_id";

/** The first executable `name` on `pathEnv` (a PATH string), or undefined. */
export function findExecutable(name: string, pathEnv = process.env.PATH ?? ""): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function nullable(cell: string | undefined): string | null {
  const v = (cell ?? "").trim();
  return v === "" || v === "[N/A]" || v === "N/A" || v === "[Not Supported]" ? null : v;
}

/**
 * Parse `--query-gpu=index,name,uuid,memory.total,driver_version,pci.bus_id`
 * output; tolerates a header line and units (`143771 MiB`).
 */
export function parseGpuInventory(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length < 3 || !/^\d+$/.test(cells[0] ?? "")) continue;
    const memory = nullable(cells[3]);
    const memoryMib = memory === null ? null : Number.parseFloat(memory);
    gpus.push({
      index: Number(cells[0]),
      name: cells[1] ?? "",
      uuid: cells[2] ?? "",
      memory_total_mib: memoryMib === null || Number.isNaN(memoryMib) ? null : memoryMib,
      driver_version: nullable(cells[4]),
      pci_bus_id: nullable(cells[5]),
    });
  }
  return gpus;
}

export interface GpuProbe {
  /** Path of nvidia-smi, null when absent. */
  exe: string | null;
  gpus: GpuInfo[] | null;
  note: string | null;
}

/** Find nvidia-smi and read the inventory; a failing nvidia-smi is a note, not an error. */
export async function probeGpus(env: NodeJS.ProcessEnv = process.env): Promise<GpuProbe> {
  const exe = findExecutable("nvidia-smi", env.PATH ?? "");
  if (!exe) return { exe: null, gpus: null, note: NO_NVIDIA_SMI_NOTE };
  try {
    const { stdout } = await promisify(execFile)(
      exe,
      [`--query-gpu=${INVENTORY_FIELDS}`, "--format=csv,noheader,nounits"],
      { env, timeout: 15_000 },
    );
    return { exe, gpus: parseGpuInventory(stdout), note: null };
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { exe, gpus: null, note: `nvidia-smi failed: ${message}` };
  }
}

export interface GpuSampler {
  stop(): Promise<void>;
}

/** Start `nvidia-smi --query-gpu=… -lms <interval>` with stdout going straight to `outFile`. */
export async function startGpuSampler(options: {
  exe: string;
  outFile: string;
  intervalMs?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<GpuSampler> {
  const fd = openSync(options.outFile, "w");
  const child = spawn(
    options.exe,
    [
      `--query-gpu=${GPU_QUERY_FIELDS.join(",")}`,
      "--format=csv,nounits",
      "-lms",
      String(options.intervalMs ?? 1000),
    ],
    { stdio: ["ignore", fd, "ignore"], env: options.env ?? process.env },
  );
  const exited = new Promise<void>((resolveExit) => {
    child.once("exit", () => resolveExit());
    child.once("error", () => resolveExit());
  });
  closeSync(fd);
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
