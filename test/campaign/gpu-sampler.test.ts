import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  findExecutable,
  NO_NVIDIA_SMI_NOTE,
  parseGpuInventory,
  probeGpus,
  startGpuSampler,
} from "../../campaign/gpu-sampler.ts";
import { GPU_QUERY_FIELDS } from "../../formats/raw-layout.ts";
import { FIXTURES, fakeNvidiaSmiDir, tempDir } from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("gpu");
});
afterEach(async () => {
  await dir.remove();
});

describe("GPU inventory", () => {
  it("parses nvidia-smi's inventory with or without header and units", async () => {
    const withHeader = [
      "index, name, uuid, memory.total [MiB], driver_version, pci.bus_id",
      "0, NVIDIA H200, GPU-d0a8d01d-ff56-2601-3c8f-71b5f6c05af7, 143771 MiB, 580.159.04, 00000000:00:06.0",
    ].join("\n");
    expect(parseGpuInventory(withHeader)).toEqual([
      {
        index: 0,
        name: "NVIDIA H200",
        uuid: "GPU-d0a8d01d-ff56-2601-3c8f-71b5f6c05af7",
        memory_total_mib: 143771,
        driver_version: "580.159.04",
        pci_bus_id: "00000000:00:06.0",
      },
    ]);
    const bare = await readFile(join(FIXTURES, "query-gpu-inventory-noheader.csv"), "utf8");
    expect(parseGpuInventory(bare).map((g) => g.index)).toEqual([0, 1]);
    expect(parseGpuInventory("0, X, GPU-1, [N/A], [N/A], [N/A]")[0]?.memory_total_mib).toBeNull();
  });

  it("notes that no GPU data was taken when nvidia-smi is not on PATH", async () => {
    const probe = await probeGpus({ PATH: dir.path });
    expect(probe).toEqual({ exe: null, gpus: null, note: NO_NVIDIA_SMI_NOTE });
  });

  it("reads the inventory from the nvidia-smi first on PATH", async () => {
    const bin = await fakeNvidiaSmiDir(dir.path);
    const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` };
    expect(findExecutable("nvidia-smi", env.PATH)).toBe(join(bin, "nvidia-smi"));
    const probe = await probeGpus(env);
    expect(probe.note).toBeNull();
    expect(probe.gpus?.map((g) => [g.index, g.name, g.memory_total_mib])).toEqual([
      [0, "NVIDIA H200", 143771],
      [1, "NVIDIA H200", 143771],
    ]);
  });
});

describe("GPU sampler", () => {
  it("writes nvidia-smi's --query-gpu loop to gpu.csv as printed and stops it", async () => {
    const bin = await fakeNvidiaSmiDir(dir.path);
    const out = join(dir.path, "gpu.csv");
    const sampler = await startGpuSampler({ exe: join(bin, "nvidia-smi"), outFile: out });
    // Wait until a few rows arrived (the fake prints 4 rows every 0.2 s).
    for (let i = 0; i < 100; i++) {
      const rows = (await readFile(out, "utf8")).split("\n").filter((l) => l !== "");
      if (rows.length >= 9) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await sampler.stop();
    const text = await readFile(out, "utf8");
    const lines = text.split("\n").filter((l) => l !== "");
    const fixture = (await readFile(join(FIXTURES, "query-gpu-loop-load.csv"), "utf8")).split("\n");
    expect(lines[0]).toBe(fixture[0]);
    expect(lines[1]).toBe(fixture[1]);
    expect(lines[0]?.split(",")).toHaveLength(GPU_QUERY_FIELDS.length);
    expect(lines.length).toBeGreaterThanOrEqual(9);
    // Stopped: the file no longer grows.
    await new Promise((r) => setTimeout(r, 400));
    expect(await readFile(out, "utf8")).toBe(text);
  });
});
