import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gpuColumns, parseDmon, parseQueryGpuCsv } from "../../analysis/aggregate/gpu-samples.ts";
import { GPU_FIXTURES, SHARED_GPU_FIXTURES } from "./fixtures.ts";

const read = (name: string) => readFile(join(GPU_FIXTURES, name), "utf8");
const localUs = (...p: [number, number, number, number, number, number, number]) =>
  new Date(p[0], p[1] - 1, p[2], p[3], p[4], p[5], p[6]).getTime() * 1000;

describe("nvidia-smi --query-gpu CSV", () => {
  it("parses the real capture: 32 samples of 2 GPUs, units in the header", async () => {
    const warnings: string[] = [];
    const samples = parseQueryGpuCsv(await read("query-gpu-loop-load.csv"), "q.csv", (w) =>
      warnings.push(w),
    );
    expect(warnings).toEqual([]);
    expect(samples).toHaveLength(32);
    expect(samples[12]).toEqual({
      source: "query-gpu",
      timeUs: localUs(2026, 11, 22, 14, 46, 51, 261),
      gpuIndex: 0,
      utilGpuPct: 100,
      utilMemPct: 25,
      memUsedMib: 1139,
      memTotalMib: 143771,
      powerW: 267.62,
      tempC: 49,
      smClockMhz: 1500,
    });
  });

  it("summarises mean/max over the GPUs in use (hand-computed over GPU 0's 16 samples)", async () => {
    const samples = parseQueryGpuCsv(await read("query-gpu-loop-load.csv"), "q.csv", () => {});
    const cols = gpuColumns(samples, new Set([0]), () => false);
    expect(cols.gpu_util_mean).toBe(62.5); // 10 of 16 samples at 100 %
    expect(cols.gpu_mem_used_mib_mean).toBeCloseTo((1 + 22 + 1139 * 10) / 16, 12);
    expect(cols.gpu_power_w_max).toBe(693.99);
    expect(gpuColumns(samples, null, () => false).gpu_util_mean).toBe(31.25);
  });

  it("reads values with units and [N/A], and reports malformed rows by line", () => {
    const text =
      "timestamp, index, utilization.gpu [%], memory.used [MiB], power.draw [W]\n" +
      "2026/01/02 03:04:05.600, 0, 50 %, 1000 MiB, [N/A]\n" +
      "garbage\n";
    const warnings: string[] = [];
    const samples = parseQueryGpuCsv(text, "g.csv", (w) => warnings.push(w));
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({
      utilGpuPct: 50,
      memUsedMib: 1000,
      powerW: null,
      tempC: null,
    });
    expect(warnings).toEqual(["g.csv:3: expected 5 fields with a GPU index; line skipped"]);
  });
});

describe("nvidia-smi dmon", () => {
  it("parses `dmon -s pucvmet -o DT` with dates, framebuffer and clocks", async () => {
    const samples = parseDmon(await read("dmon-pucvmet-load.txt"), "d.txt", () => {});
    expect(samples).toHaveLength(16);
    expect(samples[6]).toEqual({
      source: "dmon",
      timeUs: localUs(2026, 11, 22, 14, 46, 51, 0),
      gpuIndex: 0,
      utilGpuPct: 100,
      utilMemPct: 25,
      memUsedMib: 1139,
      memTotalMib: null,
      powerW: 524,
      tempC: 52,
      smClockMhz: 1485,
    });
  });

  it("parses the default `dmon` columns (no time, no framebuffer)", async () => {
    const samples = parseDmon(await read("dmon-default-idle.txt"), "d.txt", () => {});
    expect(samples.length).toBeGreaterThan(0);
    expect(samples[0]).toMatchObject({ timeUs: null, gpuIndex: 0, powerW: 127, memUsedMib: null });
  });

  it("reads `-` as not supported and reports short rows", () => {
    const text = "# gpu    pwr     sm\n# Idx      W      %\n    0      -     40\n    1     80\n";
    const warnings: string[] = [];
    const samples = parseDmon(text, "d.txt", (w) => warnings.push(w));
    expect(samples).toEqual([
      expect.objectContaining({ gpuIndex: 0, powerW: null, utilGpuPct: 40 }),
    ]);
    expect(warnings).toEqual(["d.txt:4: expected 3 fields; line skipped"]);
  });
});

describe("fixture copies", () => {
  const hasShared = existsSync(SHARED_GPU_FIXTURES);
  if (!hasShared) console.log(`note: ${SHARED_GPU_FIXTURES} absent; copy check skipped`);
  it.skipIf(!hasShared)("match ../shared/fixtures/gpu byte for byte", async () => {
    for (const name of [
      "query-gpu-loop-load.csv",
      "dmon-pucvmet-load.txt",
      "dmon-default-idle.txt",
    ]) {
      expect(await read(name)).toBe(await readFile(join(SHARED_GPU_FIXTURES, name), "utf8"));
    }
  });
});
