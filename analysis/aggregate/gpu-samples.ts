/**
 * Parsers for the two nvidia-smi outputs a run may hold (real captures in
 * ../shared/fixtures/gpu/): the CSV of `--query-gpu=… --format=csv[,nounits]`
 * and the whitespace table of `dmon`. nvidia-smi prints host-local wall time
 * without a zone, so times are read in this process's local zone.
 */
import type { ExperimentInfo } from "../../formats/raw-layout.ts";
import type { Warn } from "./ndjson-lines.ts";

export interface GpuSample {
  source: "query-gpu" | "dmon";
  /** µs since the epoch; null when the output had no time column (dmon without `-o DT`). */
  timeUs: number | null;
  gpuIndex: number;
  utilGpuPct: number | null;
  utilMemPct: number | null;
  memUsedMib: number | null;
  memTotalMib: number | null;
  powerW: number | null;
  tempC: number | null;
  smClockMhz: number | null;
}

/** `79.56`, `79.56 W`, `[N/A]`, `[Not Supported]`, `-` → number or null. */
function reading(text: string | undefined): number | null {
  if (text === undefined) return null;
  const value = Number.parseFloat(text.trim());
  return Number.isFinite(value) ? value : null;
}

function localTimeUs(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
): number | null {
  const t = new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  return Number.isFinite(t) ? t * 1000 : null;
}

/** `2026/11/22 14:46:48.226` → µs. */
function queryTimestamp(text: string): number | null {
  const [date, time] = text.trim().split(" ");
  const ymd = date?.split("/").map(Number);
  const [hms, frac = "0"] = (time ?? "").split(".");
  const hmsParts = hms?.split(":").map(Number);
  if (ymd?.length !== 3 || hmsParts?.length !== 3) return null;
  const ms = Number(frac.padEnd(3, "0").slice(0, 3));
  const [y, mo, d] = ymd as [number, number, number];
  const [h, mi, s] = hmsParts as [number, number, number];
  return localTimeUs(y, mo, d, h, mi, s, ms);
}

/** Header `utilization.gpu [%]` → `utilization.gpu`; `clocks.sm` and `clocks.current.sm` are one field. */
function fieldName(header: string): string {
  const name = header.trim().replace(/ \[.*\]$/, "");
  return name === "clocks.sm" ? "clocks.current.sm" : name;
}

export function parseQueryGpuCsv(text: string, file: string, warn: Warn): GpuSample[] {
  const lines = text.split("\n");
  const header = lines[0]?.split(",").map(fieldName) ?? [];
  const at = (name: string) => header.indexOf(name);
  const idx = {
    time: at("timestamp"),
    index: at("index"),
    util: at("utilization.gpu"),
    utilMem: at("utilization.memory"),
    memUsed: at("memory.used"),
    memTotal: at("memory.total"),
    power: at("power.draw"),
    temp: at("temperature.gpu"),
    sm: at("clocks.current.sm"),
  };
  if (idx.index === -1) {
    warn(`${file}:1: no \`index\` column in the header; file skipped`);
    return [];
  }
  const samples: GpuSample[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    const cells = line.split(",");
    const get = (j: number) => (j === -1 ? undefined : cells[j]);
    const gpuIndex = reading(get(idx.index));
    if (cells.length !== header.length || gpuIndex === null) {
      warn(`${file}:${i + 1}: expected ${header.length} fields with a GPU index; line skipped`);
      continue;
    }
    const timeText = get(idx.time);
    samples.push({
      source: "query-gpu",
      timeUs: timeText === undefined ? null : queryTimestamp(timeText),
      gpuIndex,
      utilGpuPct: reading(get(idx.util)),
      utilMemPct: reading(get(idx.utilMem)),
      memUsedMib: reading(get(idx.memUsed)),
      memTotalMib: reading(get(idx.memTotal)),
      powerW: reading(get(idx.power)),
      tempC: reading(get(idx.temp)),
      smClockMhz: reading(get(idx.sm)),
    });
  }
  return samples;
}

/** `nvidia-smi dmon [-s …] [-o DT]`: `#` header (names, then units), aligned rows, `-` = unsupported. */
export function parseDmon(text: string, file: string, warn: Warn): GpuSample[] {
  let names: string[] | null = null;
  const samples: GpuSample[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      // dmon repeats its header; the first `#` line of each pair holds the names.
      const fields = line.slice(1).trim().split(/\s+/);
      if (fields.includes("gpu")) names = fields;
      continue;
    }
    if (!names) {
      warn(`${file}:${i + 1}: data before the header; line skipped`);
      continue;
    }
    const cells = line.split(/\s+/);
    const cell = (name: string) => {
      const j = names!.indexOf(name);
      return j === -1 ? undefined : cells[j];
    };
    const gpuIndex = reading(cell("gpu"));
    if (cells.length !== names.length || gpuIndex === null) {
      warn(`${file}:${i + 1}: expected ${names.length} fields; line skipped`);
      continue;
    }
    let timeUs: number | null = null;
    const date = cell("Date");
    const time = cell("Time");
    if (date && time && date.length === 8) {
      const [h, mi, s] = time.split(":").map(Number) as [number, number, number];
      timeUs = localTimeUs(
        Number(date.slice(0, 4)),
        Number(date.slice(4, 6)),
        Number(date.slice(6, 8)),
        h,
        mi,
        s,
        0,
      );
    }
    samples.push({
      source: "dmon",
      timeUs,
      gpuIndex,
      utilGpuPct: reading(cell("sm")),
      utilMemPct: reading(cell("mem")),
      memUsedMib: reading(cell("fb")),
      memTotalMib: null,
      powerW: reading(cell("pwr")),
      tempC: reading(cell("gtemp")),
      smClockMhz: reading(cell("pclk")),
    });
  }
  return samples;
}

/**
 * The GPU indices an experiment's figures average over: the GPUs its server
 * was given (experiment.json `gpus_in_use`, written by campaign/gpus-in-use.ts);
 * null means every GPU sampled (host-wide). Files older than that field are
 * read as before: the listed inventory counts as in use.
 */
export function gpusInUseOf(
  info: Pick<ExperimentInfo, "gpus_in_use" | "gpus">,
): ReadonlySet<number> | null {
  if (info.gpus_in_use) {
    const indices = info.gpus_in_use.indices;
    return indices ? new Set(indices) : null;
  }
  return info.gpus ? new Set(info.gpus.map((g) => g.index)) : null;
}

/** Mean/max over the GPUs in use and the samples in the window (all samples if none fall in it). */
export function gpuColumns(
  samples: readonly GpuSample[],
  gpusInUse: ReadonlySet<number> | null,
  inWindow: (s: GpuSample) => boolean,
): Record<string, number | null> {
  const used = samples.filter((s) => gpusInUse === null || gpusInUse.has(s.gpuIndex));
  const windowed = used.filter(inWindow);
  const chosen = windowed.length > 0 ? windowed : used;
  const stat = (pick: (s: GpuSample) => number | null) => {
    let sum = 0;
    let n = 0;
    let max: number | null = null;
    for (const s of chosen) {
      const v = pick(s);
      if (v === null) continue;
      sum += v;
      n++;
      max = max === null ? v : Math.max(max, v);
    }
    return { mean: n > 0 ? sum / n : null, max };
  };
  const util = stat((s) => s.utilGpuPct);
  const mem = stat((s) => s.memUsedMib);
  const power = stat((s) => s.powerW);
  return {
    gpu_util_mean: util.mean,
    gpu_util_max: util.max,
    gpu_mem_used_mib_mean: mem.mean,
    gpu_mem_used_mib_max: mem.max,
    gpu_power_w_mean: power.mean,
    gpu_power_w_max: power.max,
  };
}
