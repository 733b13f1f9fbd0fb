/**
 * The summary `vscale load` prints, from the records file: the window
 * figures of `stats/request-window.ts` (the same computation as
 * `summary.parquet`; the window rule is written there), read line by line.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { DataError } from "../common/errors.ts";
import { type RequestRecord, RequestRecordSchema } from "../formats/request-record.ts";
import { type WindowFigures, WindowStats, windowFigures } from "../stats/request-window.ts";
import type { WaveStats } from "../stats/scenario-figures.ts";

export type LoadSummary = WindowFigures;

export function summarizeRecords(
  records: Iterable<RequestRecord>,
  windowStartUs: number,
  windowEndUs: number,
): LoadSummary {
  return windowFigures(records, { startUs: windowStartUs, endUs: windowEndUs });
}

/** Summarise a `requests.ndjson` line by line (never the whole file in memory). */
export async function summarizeRequestsFile(
  file: string,
  windowStartUs: number,
  windowEndUs: number,
  /** prefill-only: also collect the waves (stats/scenario-figures.ts). */
  waves?: WaveStats,
): Promise<LoadSummary> {
  const stats = new WindowStats({ startUs: windowStartUs, endUs: windowEndUs });
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DataError("expected one JSON record a line", { file, line: lineNo });
    }
    const parsed = RequestRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DataError(issue?.message ?? "invalid record", {
        file,
        line: lineNo,
        field: issue?.path.join("."),
      });
    }
    stats.add(parsed.data);
    waves?.add(parsed.data);
  }
  return stats.figures();
}

const f = (x: number | null, digits = 1) => (x === null ? "-" : x.toFixed(digits));

export function formatSummary(s: LoadSummary): string {
  const errors = Object.entries(s.errors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  const { ttftMs, e2eMs, itlMs, itlRequestMeanMs } = s.latency;
  return [
    `window      ${f(s.windowS)} s: ${s.requestsOk} ok, ${s.requestsFailed} failed finished in it`,
    `throughput  ${f(s.reqPerS, 2)} req/s, ${f(s.outputTokPerS)} output tok/s`,
    `TTFT        p50 ${f(ttftMs.p50)} ms, p99 ${f(ttftMs.p99)} ms`,
    `E2E         p50 ${f(e2eMs.p50)} ms, p99 ${f(e2eMs.p99)} ms`,
    `ITL         p50 ${f(itlMs.p50)} ms, p99 ${f(itlMs.p99)} ms (every gap); per-request mean p50 ${f(itlRequestMeanMs.p50)} ms`,
    `errors      ${errors === "" ? "none" : errors}`,
  ].join("\n");
}
