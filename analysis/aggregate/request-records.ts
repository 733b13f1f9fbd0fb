/**
 * One experiment's `requests.ndjson` → rows of the requests table and the
 * experiment's RequestStats, in one pass over the file's bytes. This is the
 * hot loop of aggregation (one pass per record of a campaign), so a line is
 * decoded into reusable slots by FlatJsonDecoder and copied straight into the
 * Arrow columns, with no JSON.parse, zod call or object per line. Lines the
 * decoder declines take the JSON.parse + zod path (the schema in
 * `formats/request-record.ts` decides), which also reports bad lines as before.
 */

import { AGG_SCHEMA_VERSION, REQUESTS_TABLE } from "../../formats/agg-tables.ts";
import { type RequestRecord, RequestRecordSchema } from "../../formats/request-record.ts";
import type { Cell } from "./arrow-batch.ts";
import { FlatJsonDecoder, NULL, NUMBER, STRING, TRUE } from "./flat-json-decoder.ts";
import { flatRecordRules, namedOnly } from "./flat-record-plan.ts";
import { parseLine, readLineBlocks, type Warn } from "./ndjson-lines.ts";
import type { RequestStats, Window } from "./request-stats.ts";
import type { TableSink } from "./table-sink.ts";

/** Null when the schema uses something the fast decoder does not check: then zod reads every line. */
const FAST_RULES = flatRecordRules(RequestRecordSchema);
const FIELD_NAMES = Object.keys(RequestRecordSchema.shape) as (keyof RequestRecord)[];

/** True when request lines are decoded without zod (the schema is within the decoder's rules). */
export const fastRequestDecoding = FAST_RULES !== null;

export interface RequestPass {
  campaign: string;
  gpus: number | null;
  /** Null when the runner never recorded the window: every non-warm-up request counts. */
  window: Window | null;
  sink: TableSink;
  stats: RequestStats;
  warn: Warn;
}

export interface RequestSpan {
  /** Earliest start and latest end of the counted requests (±Infinity when none). */
  firstStartUs: number;
  lastEndUs: number;
}

export async function streamRequests(file: string, pass: RequestPass): Promise<RequestSpan> {
  const { sink, stats, window, warn } = pass;
  const decoder = new FlatJsonDecoder(FAST_RULES ?? FIELD_NAMES.map(namedOnly));
  const field = (name: keyof RequestRecord) => decoder.fieldIndex(name);
  const f = {
    experimentId: field("experiment_id"),
    engine: field("engine"),
    requestId: field("request_id"),
    promptSet: field("prompt_set"),
    startUs: field("start_us"),
    endUs: field("end_us"),
    ttftMs: field("ttft_ms"),
    e2eMs: field("e2e_ms"),
    itlMeanMs: field("itl_mean_ms"),
    itlP50Ms: field("itl_p50_ms"),
    itlP90Ms: field("itl_p90_ms"),
    itlP99Ms: field("itl_p99_ms"),
    itlMaxMs: field("itl_max_ms"),
    itlGapsMs: field("itl_gaps_ms"),
    tpotMs: field("tpot_ms"),
    promptTokens: field("prompt_tokens"),
    outputTokens: field("output_tokens"),
    tokensFromUsage: field("tokens_from_usage"),
    httpStatus: field("http_status"),
    ok: field("ok"),
    errorKind: field("error_kind"),
    errorMessage: field("error_message"),
    finishReason: field("finish_reason"),
    warmup: field("warmup"),
  };
  // Where each output column comes from: a record field, or (-1) a per-experiment value.
  const columns = REQUESTS_TABLE.columns;
  const sources = Int32Array.from(columns, (c) => decoder.fieldIndex(c.name));
  const inWindowColumn = columns.findIndex((c) => c.name === "in_window");
  const extras: Cell[] = columns.map((c) =>
    c.name === "schema_version"
      ? AGG_SCHEMA_VERSION
      : c.name === "campaign"
        ? pass.campaign
        : c.name === "gpus"
          ? pass.gpus
          : undefined,
  );
  for (let c = 0; c < columns.length; c++) {
    if (sources[c]! < 0 && c !== inWindowColumn && extras[c] === undefined) {
      throw new Error(`requests table column ${columns[c]!.name} has no source`);
    }
  }

  // One record object, refilled per line, for the figures (RequestStats reads named fields;
  // the gaps stay a view of the decoder's slot, not a fresh array per line).
  const d = decoder;
  const record = {} as Omit<RequestRecord, "itl_gaps_ms"> & { itl_gaps_ms: Float64Array | null };
  const fill = (): void => {
    record.experiment_id = d.str(f.experimentId)!;
    record.engine = d.str(f.engine) as RequestRecord["engine"];
    record.request_id = d.str(f.requestId)!;
    record.prompt_set = d.str(f.promptSet)!;
    record.start_us = d.num(f.startUs)!;
    record.end_us = d.num(f.endUs)!;
    record.ttft_ms = d.num(f.ttftMs);
    record.e2e_ms = d.num(f.e2eMs);
    record.itl_mean_ms = d.num(f.itlMeanMs);
    record.itl_p50_ms = d.num(f.itlP50Ms);
    record.itl_p90_ms = d.num(f.itlP90Ms);
    record.itl_p99_ms = d.num(f.itlP99Ms);
    record.itl_max_ms = d.num(f.itlMaxMs);
    record.itl_gaps_ms = d.list(f.itlGapsMs);
    record.tpot_ms = d.num(f.tpotMs);
    record.prompt_tokens = d.num(f.promptTokens);
    record.output_tokens = d.num(f.outputTokens);
    record.tokens_from_usage = d.bool(f.tokensFromUsage);
    record.http_status = d.num(f.httpStatus);
    record.ok = d.bool(f.ok);
    record.error_kind = d.str(f.errorKind) as RequestRecord["error_kind"];
    record.error_message = d.str(f.errorMessage);
    record.finish_reason = d.str(f.finishReason);
    record.warmup = d.bool(f.warmup);
  };

  const { builders } = sink;
  const { kinds, numbers, strings } = d;
  const columnCount = columns.length;
  const emit = (): Promise<void> | undefined => {
    fill();
    const counted = stats.add(record, window);
    for (let c = 0; c < columnCount; c++) {
      const source = sources[c]!;
      const builder = builders[c]!;
      if (source < 0) builder.push(c === inWindowColumn ? counted : extras[c]);
      else {
        const kind = kinds[source];
        if (kind === NUMBER) builder.pushNumber(numbers[source]!);
        else if (kind === STRING) builder.pushString(strings[source]!);
        else if (kind === NULL) builder.pushNull();
        else builder.push(kind === TRUE);
      }
    }
    return sink.endRow();
  };

  // The JSON.parse + zod path: fills the slots, or warns and returns false.
  const slowLine = (
    block: Buffer,
    start: number,
    end: number,
    lineNo: number,
    terminated: boolean,
  ): boolean => {
    const text = block.toString("utf8", start, end);
    const row = parseLine({ text, lineNo, terminated }, RequestRecordSchema, file, warn);
    if (row === undefined) return false;
    d.load(row);
    return true;
  };

  let lineNo = 0;
  for await (const block of readLineBlocks(file)) {
    let start = 0;
    while (start < block.length) {
      const newline = block.indexOf(10, start);
      const end = newline === -1 ? block.length : newline;
      lineNo++;
      if (
        (FAST_RULES !== null && d.decode(block, start, end)) ||
        slowLine(block, start, end, lineNo, newline !== -1)
      ) {
        const flushing = emit();
        if (flushing) await flushing;
      }
      start = end + 1;
    }
  }
  return stats.span;
}
