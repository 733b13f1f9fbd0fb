/**
 * The k6-operator side of segments: each TestRun runner wrote its console
 * (vscale record lines, and the start marker its `setup()` logs) to
 * `<experiment>/k6/<pod>/console.log` (manifests.ts). This turns runner i's
 * console into segment i's records file and segment info, as `vscale load
 * --segment` writes them, so `vscale aggregate` merges k6 runners exactly as
 * it merges Node segments. Runners are numbered in pod-name order.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../../common/atomic-write.ts";
import { DataError } from "../../common/errors.ts";
import {
  ExperimentInfoSchema,
  RAW_FILES,
  type SegmentInfo,
  type Status,
  segmentFileNames,
} from "../../formats/raw-layout.ts";
import { parseK6ConsoleLine } from "../k6/runner.ts";
import { completeSegmentedRun } from "../segments.ts";

export interface CollectResult {
  segments: number;
  records: number;
  status: Status | null;
  warnings: string[];
}

export async function collectK6Runners(experimentDir: string): Promise<CollectResult> {
  const infoFile = join(experimentDir, RAW_FILES.experiment);
  if (!existsSync(infoFile)) throw new DataError("no experiment.json here", { file: infoFile });
  const info = ExperimentInfoSchema.parse(JSON.parse(await readFile(infoFile, "utf8")));
  const runnersDir = join(experimentDir, "k6");
  const pods = existsSync(runnersDir) ? (await readdir(runnersDir)).sort() : [];
  if (pods.length === 0)
    throw new DataError("no k6 runner folders (k6/<pod>/console.log)", { file: runnersDir });
  const warnings: string[] = [];
  let total = 0;
  for (const [index, pod] of pods.entries()) {
    const file = join(runnersDir, pod, "console.log");
    const lines = existsSync(file) ? (await readFile(file, "utf8")).split("\n") : [];
    if (lines.length === 0) warnings.push(`${file}: missing; segment ${index} has no records`);
    let startUs: number | null = null;
    let text = "";
    let records = 0;
    let ok = 0;
    let invalid = 0;
    for (const line of lines) {
      const parsed = parseK6ConsoleLine(line);
      if (parsed.kind === "start") startUs ??= parsed.startUs;
      else if (parsed.kind === "invalid") invalid++;
      else if (parsed.kind === "record") {
        text += `${JSON.stringify(parsed.record)}\n`;
        records++;
        if (parsed.record.ok) ok++;
      }
    }
    if (invalid > 0)
      warnings.push(`${file}: ${invalid} record-like lines did not validate; left out`);
    if (startUs === null) {
      warnings.push(`${file}: no start marker (setup() did not run); segment ${index} left out`);
      continue;
    }
    const segment = { index, count: pods.length };
    const names = segmentFileNames(segment);
    await writeFileAtomic(join(experimentDir, names.requests), text);
    const windowStartUs = startUs + info.load.warmup_ms * 1000;
    const seg: SegmentInfo = {
      experiment_id: info.experiment_id,
      segment,
      warmup_start_us: startUs,
      window_start_us: windowStartUs,
      window_end_us: windowStartUs + info.load.duration_ms * 1000,
      records,
      completed: ok,
      interrupted: false,
      // k6 runs its event loops in Go: no guard figures from it.
      client: null,
      hostname: `${pod} (collected on ${hostname()})`,
      finished_at: new Date().toISOString(),
    };
    await writeJsonAtomic(join(experimentDir, names.info), seg);
    total += records;
  }
  return {
    segments: pods.length,
    records: total,
    status: await completeSegmentedRun(experimentDir),
    warnings,
  };
}
