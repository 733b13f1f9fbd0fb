/**
 * Seed 001's PyTorch profiler chrome traces (`export_chrome_trace()`, maybe
 * gzipped): complete events (`ph: "X"`) summed per name for GPU kernels
 * (`cat: kernel`) and host operators (`cat: cpu_op`).
 */
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { DataError } from "../../common/errors.ts";
import type { Row } from "./duck.ts";
import { formatBytes, inputFileProblem } from "./input-files.ts";
import type { Warn } from "./ndjson-lines.ts";

/**
 * A trace is parsed whole (JSON.parse), and its objects take several times
 * its size in memory; V8 cannot even hold a string past ~512 MiB. 256 MiB of
 * JSON, after decompression, is about a thousand profiled steps of an 8-GPU
 * run: profile fewer steps per trace file to stay under it.
 */
export const MAX_TRACE_BYTES = 256 << 20;

const GZIP_MAGIC = [0x1f, 0x8b];

export const TRACE_FILE_PATTERN = /(^trace.*|\.pt\.trace)\.json(\.gz)?$/;

/** The part of an event we read; others (and other fields) are ignored. */
const CompleteEventSchema = z.object({
  ph: z.literal("X"),
  name: z.string(),
  cat: z.string().optional(),
  dur: z.number().min(0),
});

const TraceSchema = z.object({ traceEvents: z.array(z.unknown()) });

export interface TraceTables {
  kernels: Row[];
  ops: Row[];
}

function summarise(totals: Map<string, { calls: number; total: number }>): Row[] {
  let all = 0;
  for (const t of totals.values()) all += t.total;
  return [...totals.entries()]
    .sort(([an, a], [bn, b]) => b.total - a.total || (an < bn ? -1 : an > bn ? 1 : 0))
    .map(([name, t]) => ({
      name,
      calls: t.calls,
      total_us: t.total,
      mean_us: t.total / t.calls,
      share: all > 0 ? t.total / all : 0,
    }));
}

const tooBig = (file: string, maxBytes: number) =>
  new DataError(`trace is over the ${formatBytes(maxBytes)} limit (MAX_TRACE_BYTES)`, {
    file,
    hint: "profile fewer steps per trace file",
  });

/** The trace's JSON bytes: checked against the size limit, decompressed when it is gzip. */
async function traceBytes(file: string, maxBytes: number): Promise<Buffer> {
  const problem = await inputFileProblem(file, { bytes: maxBytes, name: "MAX_TRACE_BYTES" });
  if (problem !== null) throw new DataError(problem, { file });
  const raw = await readFile(file);
  // Sniff the content, not the name: a `.json.gz` that is plain JSON (or the
  // reverse) is named wrongly, not broken.
  const gzip = raw[0] === GZIP_MAGIC[0] && raw[1] === GZIP_MAGIC[1];
  if (!gzip) {
    if (file.endsWith(".gz")) {
      throw new DataError("named .gz but is not gzip (no 1f 8b header)", { file });
    }
    return raw;
  }
  try {
    return gunzipSync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === "ERR_BUFFER_TOO_LARGE") throw tooBig(file, maxBytes);
    const reason = code === "Z_BUF_ERROR" ? "gzip cut short (unexpected end of file)" : message;
    throw new DataError(`cannot decompress: ${reason}`, { file });
  }
}

export async function readChromeTrace(
  file: string,
  warn: Warn,
  maxBytes = MAX_TRACE_BYTES,
): Promise<TraceTables> {
  const raw = await traceBytes(file, maxBytes);
  let parsed: z.infer<typeof TraceSchema>;
  try {
    const result = TraceSchema.safeParse(JSON.parse(raw.toString("utf8")));
    if (!result.success) throw new Error("no traceEvents array");
    parsed = result.data;
  } catch (error) {
    throw new DataError(`not a chrome trace: ${(error as Error).message}`, {
      file,
      hint: "expected torch.profiler export_chrome_trace() output",
    });
  }
  const kernels = new Map<string, { calls: number; total: number }>();
  const ops = new Map<string, { calls: number; total: number }>();
  let bad = 0;
  for (const event of parsed.traceEvents) {
    if ((event as { ph?: unknown })?.ph !== "X") continue;
    const e = CompleteEventSchema.safeParse(event);
    if (!e.success) {
      bad++;
      continue;
    }
    const target = e.data.cat === "kernel" ? kernels : e.data.cat === "cpu_op" ? ops : null;
    if (!target) continue;
    const t = target.get(e.data.name) ?? { calls: 0, total: 0 };
    t.calls++;
    t.total += e.data.dur;
    target.set(e.data.name, t);
  }
  if (bad > 0) warn(`${file}: ${bad} complete events without name or duration skipped`);
  return { kernels: summarise(kernels), ops: summarise(ops) };
}
