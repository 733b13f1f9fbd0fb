/**
 * An experiment's window figures from its staged request records
 * (`request-table.ts`).
 *
 * The figures stay computed by `stats/request-window.ts` (through
 * RequestStats), the one definition `vscale load` and the live counters use:
 * DuckDB hands back only the columns the window rule reads, a chunk at a
 * time, and WindowStats takes them straight from DuckDB's vectors (read in
 * place: no row objects, no list values; the gaps are copied into one reused
 * array, as the vectors keep their typed arrays private). The
 * same figures as SQL would be a second definition whose float sums and
 * interpolations differ from the TypeScript ones in the last bits, breaking
 * the equality `test/aggregate/load-summary-equals-aggregate.test.ts` holds.
 */
import {
  DuckDBBooleanVector,
  type DuckDBDataChunk,
  DuckDBDoubleVector,
  DuckDBListVector,
} from "@duckdb/node-api";
import { ErrorKind } from "../../formats/request-record.ts";
import type { WindowRecord } from "../../stats/request-window.ts";
import { type Session, sqlString } from "./duck.ts";
import type { RequestStats, Window } from "./request-stats.ts";

/**
 * A number column with NULL as NaN (no record holds NaN: JSON has none).
 * A vector without NULLs has no validity mask, and the client's per-item
 * mask check (BigInt arithmetic) was a third of this loop's time and most of
 * its garbage (`node --cpu-prof`, 1M records).
 */
const orNaN = (column: string) => `coalesce(${column}::DOUBLE, 'NaN'::DOUBLE)`;

/**
 * `error_kind` as its position in ErrorKind's options (0: null): a string
 * per record, and the only column left with a validity mask, cost 0.1 CPU-s
 * per 1M records in decoding and garbage. The staging rules allow no other value.
 */
const KINDS: readonly (string | null)[] = [null, ...ErrorKind.options];
const ERROR_KIND_CODE = `coalesce(list_position([${ErrorKind.options.map(sqlString).join(", ")}], error_kind), 0)::DOUBLE`;

/** The columns read, in the order the loop takes them. */
const COLUMNS = [
  "start_us::DOUBLE",
  "end_us::DOUBLE",
  "coalesce(ok, false)",
  "coalesce(warmup, false)",
  ERROR_KIND_CODE,
  orNaN("ttft_ms"),
  orNaN("tpot_ms"),
  orNaN("e2e_ms"),
  orNaN("itl_mean_ms"),
  "itl_gaps_ms",
  orNaN("prompt_tokens"),
  orNaN("output_tokens"),
  // The list vector keeps its validity to itself.
  "itl_gaps_ms IS NULL",
].join(", ");

const nullIfNaN = (v: number) => (Number.isNaN(v) ? null : v);

function vector<T>(chunk: DuckDBDataChunk, i: number, type: new (...a: never[]) => T): T {
  const v = chunk.getColumnVector(i);
  if (!(v instanceof type)) throw new Error(`request figures: column ${i} has type ${v.type}`);
  return v;
}

/** Feeds the staged records of `path`, in file order, to `stats`. */
export async function addRequestFigures(
  session: Session,
  path: string,
  window: Window | null,
  stats: RequestStats,
): Promise<void> {
  const result = await session.connection.stream(
    `SELECT ${COLUMNS} FROM read_parquet(${sqlString(path)})`,
  );
  // One record object, refilled per row: no allocation per record.
  const r = {} as WindowRecord;
  let gapBuffer = new Float64Array(1024);
  for (;;) {
    const chunk = await result.fetchChunk();
    const rows = chunk?.rowCount ?? 0;
    if (rows === 0) break;
    const start = vector(chunk!, 0, DuckDBDoubleVector);
    const end = vector(chunk!, 1, DuckDBDoubleVector);
    const ok = vector(chunk!, 2, DuckDBBooleanVector);
    const warmup = vector(chunk!, 3, DuckDBBooleanVector);
    const errorKind = vector(chunk!, 4, DuckDBDoubleVector);
    const ttft = vector(chunk!, 5, DuckDBDoubleVector);
    const tpot = vector(chunk!, 6, DuckDBDoubleVector);
    const e2e = vector(chunk!, 7, DuckDBDoubleVector);
    const itlMean = vector(chunk!, 8, DuckDBDoubleVector);
    const gaps = vector(chunk!, 9, DuckDBListVector);
    const gapItems = gaps.childVector as DuckDBDoubleVector;
    const prompt = vector(chunk!, 10, DuckDBDoubleVector);
    const output = vector(chunk!, 11, DuckDBDoubleVector);
    const noGaps = vector(chunk!, 12, DuckDBBooleanVector);
    for (let i = 0; i < rows; i++) {
      r.start_us = start.getItem(i)!;
      r.end_us = end.getItem(i)!;
      r.ok = ok.getItem(i) === true;
      r.warmup = warmup.getItem(i) === true;
      r.error_kind = KINDS[errorKind.getItem(i)!] ?? null;
      r.ttft_ms = nullIfNaN(ttft.getItem(i)!);
      r.tpot_ms = nullIfNaN(tpot.getItem(i)!);
      r.e2e_ms = nullIfNaN(e2e.getItem(i)!);
      r.itl_mean_ms = nullIfNaN(itlMean.getItem(i)!);
      if (noGaps.getItem(i)) r.itl_gaps_ms = null;
      else {
        const offset = gaps.getEntryOffset(i);
        const length = gaps.getEntryLength(i);
        if (length > gapBuffer.length) gapBuffer = new Float64Array(length * 2);
        for (let j = 0; j < length; j++) gapBuffer[j] = gapItems.getItem(offset + j)!;
        r.itl_gaps_ms = gapBuffer.subarray(0, length);
      }
      r.prompt_tokens = nullIfNaN(prompt.getItem(i)!);
      r.output_tokens = nullIfNaN(output.getItem(i)!);
      stats.add(r, window);
    }
  }
}
