/**
 * The summary `vscale load` prints, from the records file: the window
 * figures of `stats/request-window.ts` (the same computation as
 * `summary.parquet`; the window rule is written there), read line by line.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { DataError } from "../common/errors.ts";
import { type RequestRecord, RequestRecordSchema } from "../formats/request-record.ts";
import {
  type Distribution,
  type WindowFigures,
  WindowStats,
  windowFigures,
} from "../stats/request-window.ts";
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
    `TTFT        p50 ${f(ttftMs.p50)} ms, p99 ${f(ttftMs.p99)} ms ${sampleNote(ttftMs)}`,
    `E2E         p50 ${f(e2eMs.p50)} ms, p99 ${f(e2eMs.p99)} ms ${sampleNote(e2eMs)}`,
    `ITL         p50 ${f(itlMs.p50)} ms, p99 ${f(itlMs.p99)} ms (every gap, n ${itlMs.count}); per-request mean p50 ${f(itlRequestMeanMs.p50)} ms`,
    ...[ttftMs, e2eMs].flatMap((d, i) =>
      d.flags.map((x) => `            ${i === 0 ? "TTFT" : "E2E"} ${x}`),
    ),
    `errors      ${errors === "" ? "none" : errors}`,
  ].join("\n");
}

/** A statistic, or `-` with nothing to print (no request, too few, or cut ones could move it). */
const stat = (x: number | null) => (x === null ? "-" : x.toFixed(0));

/** `n 120` and, where requests were cut, `3 cut`; with the reason when the median is null. */
function sampleNote(d: Distribution): string {
  const cut = d.censored > 0 ? `, ${d.censored} cut` : "";
  const why =
    d.p50 === null && d.flags.length > 0 ? `: ${d.flags[0]?.replace(/^.*null: /, "")}` : "";
  return `(n ${d.requests}${cut}${why})`;
}

/**
 * The campaign's per-experiment phrase: the window's figures, from the same
 * computation as `summary.parquet`, each latency with its sample size.
 */
export function formatWindowPhrase(s: LoadSummary): string {
  const { ttftMs, e2eMs } = s.latency;
  return [
    `${f(s.reqPerS)} req/s`,
    `${f(s.outputTokPerS, 0)} tok/s`,
    `TTFT p50 ${stat(ttftMs.p50)} ms ${sampleNote(ttftMs)}`,
    `E2E p50 ${stat(e2eMs.p50)} p90 ${stat(e2eMs.p90)} ms ${sampleNote(e2eMs)}`,
    `errors ${s.requestsFailed}`,
  ].join("  ");
}
