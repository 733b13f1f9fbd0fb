/**
 * The short summary `vscale load` prints: throughput over the measured window
 * and latency percentiles, computed from the records file. Throughput counts
 * the successful requests that finished inside [windowStart, windowEnd),
 * whenever they were sent: a request sent in warm-up that ends in the window
 * is a completion of the window (leaving it out would bias the rate down by
 * about one E2E per window). Latency and error counts cover non-warm-up
 * requests only.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { DataError } from "../common/errors.ts";
import { type RequestRecord, RequestRecordSchema } from "../formats/request-record.ts";
import { percentileSorted } from "./workload/timing.ts";

export interface LoadSummary {
  windowS: number;
  requests: number;
  succeeded: number;
  reqPerS: number;
  outputTokPerS: number;
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  e2eP50Ms: number | null;
  e2eP99Ms: number | null;
  itlP50Ms: number | null;
  /** Failed non-warm-up requests by error kind (`cancelled` = cut at the window's end). */
  errors: Record<string, number>;
}

class Accumulator {
  private requests = 0;
  private succeeded = 0;
  private inWindow = 0;
  private tokensInWindow = 0;
  private readonly ttft: number[] = [];
  private readonly e2e: number[] = [];
  private readonly itl: number[] = [];
  private readonly errors: Record<string, number> = {};

  constructor(
    private readonly windowStartUs: number,
    private readonly windowEndUs: number,
  ) {}

  add(r: RequestRecord): void {
    if (r.ok && r.end_us >= this.windowStartUs && r.end_us < this.windowEndUs) {
      this.inWindow++;
      this.tokensInWindow += r.output_tokens ?? 0;
    }
    if (r.warmup) return;
    this.requests++;
    if (!r.ok) {
      const kind = r.error_kind ?? "unknown";
      this.errors[kind] = (this.errors[kind] ?? 0) + 1;
      return;
    }
    this.succeeded++;
    if (r.ttft_ms !== null) this.ttft.push(r.ttft_ms);
    if (r.e2e_ms !== null) this.e2e.push(r.e2e_ms);
    if (r.itl_p50_ms !== null) this.itl.push(r.itl_p50_ms);
  }

  result(): LoadSummary {
    const windowS = Math.max(1e-6, (this.windowEndUs - this.windowStartUs) / 1e6);
    const pct = (xs: number[], p: number) =>
      xs.length === 0
        ? null
        : percentileSorted(
            [...xs].sort((a, b) => a - b),
            p,
          );
    return {
      windowS,
      requests: this.requests,
      succeeded: this.succeeded,
      reqPerS: this.inWindow / windowS,
      outputTokPerS: this.tokensInWindow / windowS,
      ttftP50Ms: pct(this.ttft, 50),
      ttftP99Ms: pct(this.ttft, 99),
      e2eP50Ms: pct(this.e2e, 50),
      e2eP99Ms: pct(this.e2e, 99),
      itlP50Ms: pct(this.itl, 50),
      errors: this.errors,
    };
  }
}

export function summarizeRecords(
  records: Iterable<RequestRecord>,
  windowStartUs: number,
  windowEndUs: number,
): LoadSummary {
  const acc = new Accumulator(windowStartUs, windowEndUs);
  for (const r of records) acc.add(r);
  return acc.result();
}

/** Summarise a `requests.ndjson` line by line (never the whole file in memory). */
export async function summarizeRequestsFile(
  file: string,
  windowStartUs: number,
  windowEndUs: number,
): Promise<LoadSummary> {
  const acc = new Accumulator(windowStartUs, windowEndUs);
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
    acc.add(parsed.data);
  }
  return acc.result();
}

const f = (x: number | null, digits = 1) => (x === null ? "-" : x.toFixed(digits));

export function formatSummary(s: LoadSummary): string {
  const errors = Object.entries(s.errors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  return [
    `window      ${s.windowS.toFixed(1)} s, ${s.requests} requests, ${s.succeeded} ok`,
    `throughput  ${f(s.reqPerS, 2)} req/s, ${f(s.outputTokPerS)} output tok/s`,
    `TTFT        p50 ${f(s.ttftP50Ms)} ms, p99 ${f(s.ttftP99Ms)} ms`,
    `E2E         p50 ${f(s.e2eP50Ms)} ms, p99 ${f(s.e2eP99Ms)} ms`,
    `ITL         p50 ${f(s.itlP50Ms)} ms`,
    `errors      ${errors === "" ? "none" : errors}`,
  ].join("\n");
}
