/**
 * Segments on disk: what `vscale load --segment i/N` writes beside its
 * records, how aggregation finds every segment of an experiment, and the
 * status.json the last segment to finish writes (so a run made of pods is
 * complete the way a campaign's experiment is). Merging is exact: every
 * segment's raw records are read, each counted by its own segment's window
 * (pods start a moment apart), and the window length is the segments'
 * common one (they run at the same time, so their rates add).
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeJsonAtomic } from "../common/atomic-write.ts";
import {
  type ClientGuard,
  RAW_FILES,
  SEGMENT_INFO_PATTERN,
  type SegmentInfo,
  SegmentInfoSchema,
  type Status,
  segmentFileNames,
} from "../formats/raw-layout.ts";
import { clientGuard } from "./client-guard.ts";
import type { LoadResult } from "./node/run.ts";
import type { Share } from "./workload/share.ts";

export interface SegmentPart {
  index: number;
  /** The segment's records file. */
  file: string;
  window: { startUs: number; endUs: number };
  info: SegmentInfo;
}

export interface SegmentSet {
  count: number;
  parts: SegmentPart[];
  /** Mean of the segments' window lengths (s). */
  windowS: number | null;
  /** Indices of segments that have not (yet) written their info. */
  missing: number[];
}

export async function writeSegmentInfo(
  dir: string,
  experimentId: string,
  segment: Share,
  result: LoadResult,
): Promise<SegmentInfo> {
  const info: SegmentInfo = {
    experiment_id: experimentId,
    segment: { index: segment.index, count: segment.count },
    warmup_start_us: result.warmupStartUs,
    window_start_us: result.windowStartUs,
    window_end_us: result.windowEndUs,
    records: result.records,
    completed: result.counters.completed,
    interrupted: result.interrupted,
    client: result.client,
    hostname: hostname(),
    finished_at: new Date().toISOString(),
  };
  await writeJsonAtomic(join(dir, segmentFileNames(segment).info), info);
  return info;
}

/** Every segment info in `dir`, or null when the experiment was not run in segments. */
export async function readSegments(
  dir: string,
  warn: (m: string) => void,
): Promise<SegmentSet | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  const infos: SegmentInfo[] = [];
  for (const name of names.filter((n) => SEGMENT_INFO_PATTERN.test(n)).sort()) {
    const file = join(dir, name);
    const parsed = SegmentInfoSchema.safeParse(
      await readFile(file, "utf8")
        .then((t) => JSON.parse(t) as unknown)
        .catch(() => null),
    );
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      warn(
        `${file}: ${issue?.path.join(".") || "(file)"}: ${issue?.message ?? "not JSON"}; segment left out`,
      );
      continue;
    }
    infos.push(parsed.data);
  }
  if (infos.length === 0) return null;
  const count = Math.max(...infos.map((i) => i.segment.count));
  const parts = infos
    .filter((i) => i.segment.count === count)
    .sort((a, b) => a.segment.index - b.segment.index)
    .map((info) => ({
      index: info.segment.index,
      file: join(dir, segmentFileNames(info.segment).requests),
      window: { startUs: info.window_start_us, endUs: info.window_end_us },
      info,
    }));
  const have = new Set(parts.map((p) => p.index));
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !have.has(i));
  const lengths = parts.map((p) => (p.window.endUs - p.window.startUs) / 1e6);
  const windowS = lengths.length > 0 ? lengths.reduce((a, b) => a + b, 0) / lengths.length : null;
  return { count, parts, windowS, missing };
}

/** The guard over all segments: every machine's workers, judged as one run's (clientGuard()). */
export function segmentsClientGuard(set: SegmentSet): ClientGuard | undefined {
  const workers = set.parts.flatMap((p) => p.info.client?.per_worker ?? []);
  return workers.length > 0 ? clientGuard(workers) : undefined;
}

/**
 * Called by each segment after writing its info: the one that finds all N
 * writes status.json (two finishing together both write the same verdict,
 * atomically). Returns the status written, or null while segments are missing.
 */
export async function completeSegmentedRun(dir: string): Promise<Status | null> {
  // Only inside a raw experiment folder (experiment.json present: `vscale k8s` puts it there).
  if (!existsSync(join(dir, RAW_FILES.experiment))) return null;
  const set = await readSegments(dir, () => undefined);
  if (set === null || set.missing.length > 0) return null;
  const interrupted = set.parts.filter((p) => p.info.interrupted).map((p) => p.index);
  const empty = set.parts.filter((p) => p.info.completed === 0).map((p) => p.index);
  const status: Status = {
    status: interrupted.length > 0 ? "interrupted" : empty.length > 0 ? "failed" : "ok",
    reason:
      interrupted.length > 0
        ? `segment(s) ${interrupted.join(", ")} interrupted`
        : empty.length > 0
          ? `no request succeeded in segment(s) ${empty.join(", ")}`
          : null,
    finished_at: new Date().toISOString(),
    requests: set.parts.reduce((a, p) => a + p.info.records, 0),
  };
  await writeJsonAtomic(join(dir, RAW_FILES.status), status);
  return status;
}
