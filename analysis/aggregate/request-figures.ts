/**
 * An experiment's window figures from its rows in the DuckDB request table.
 *
 * The figures stay computed by `stats/request-window.ts` (through
 * RequestStats), the one definition `vscale load` and the live counters use:
 * DuckDB hands back only the columns the window rule reads, a chunk at a
 * time, and WindowStats takes them. Measured on 1M records this costs about
 * 1 s of the ~5 s aggregation (bench/aggregate.ts); the same figures as SQL
 * would be a second definition whose float sums and interpolations differ
 * from the TypeScript ones in the last bits, breaking the equality
 * `test/aggregate/load-summary-equals-aggregate.test.ts` holds.
 */
import type { DuckDBListValue } from "@duckdb/node-api";
import type { WindowRecord } from "../../stats/request-window.ts";
import type { Engine } from "./duck.ts";
import type { RequestStats, Window } from "./request-stats.ts";
import { REQUEST_TABLE } from "./request-table.ts";

const COLUMNS = [
  "start_us::DOUBLE",
  "end_us::DOUBLE",
  "ok",
  "warmup",
  "error_kind",
  "ttft_ms",
  "tpot_ms",
  "e2e_ms",
  "itl_mean_ms",
  "itl_gaps_ms",
  "prompt_tokens::DOUBLE",
  "output_tokens::DOUBLE",
].join(", ");

/** Feeds the experiment's records, in file order, to `stats`. */
export async function addRequestFigures(
  engine: Engine,
  expNo: number,
  window: Window | null,
  stats: RequestStats,
  /** Skip the experiment's first rows (in insertion order): a segment's figures cover its own rows. */
  skipRows = 0,
): Promise<void> {
  const result = await engine.connection.stream(
    `SELECT ${COLUMNS} FROM ${REQUEST_TABLE} WHERE exp_no = ${expNo}${skipRows > 0 ? ` ORDER BY rowid OFFSET ${skipRows}` : ""}`,
  );
  // One record object, refilled per row: no allocation per record.
  const r = {} as WindowRecord;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const c = chunk.getColumns();
    for (let i = 0; i < chunk.rowCount; i++) {
      r.start_us = c[0]![i] as number;
      r.end_us = c[1]![i] as number;
      r.ok = c[2]![i] as boolean;
      r.warmup = c[3]![i] as boolean;
      r.error_kind = c[4]![i] as string | null;
      r.ttft_ms = c[5]![i] as number | null;
      r.tpot_ms = c[6]![i] as number | null;
      r.e2e_ms = c[7]![i] as number | null;
      r.itl_mean_ms = c[8]![i] as number | null;
      const gaps = c[9]![i] as DuckDBListValue | null;
      r.itl_gaps_ms = gaps === null ? null : (gaps.items as number[]);
      r.prompt_tokens = c[10]![i] as number | null;
      r.output_tokens = c[11]![i] as number | null;
      stats.add(r, window);
    }
  }
}
