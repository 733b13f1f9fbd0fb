/**
 * Seed 001's PyTorch profiler chrome traces (`export_chrome_trace()`, maybe
 * gzipped): complete events (`ph: "X"`) summed per name for GPU kernels
 * (`cat: kernel`) and host operators (`cat: cpu_op`).
 */
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { DataError } from "../../common/errors.ts";
import type { Row } from "./arrow-batch.ts";
import type { Warn } from "./ndjson-lines.ts";

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

export async function readChromeTrace(file: string, warn: Warn): Promise<TraceTables> {
  let raw = await readFile(file);
  if (file.endsWith(".gz")) raw = gunzipSync(raw);
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
