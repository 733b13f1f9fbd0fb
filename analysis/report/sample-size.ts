/**
 * What a chart says about a summary row besides its figures: how many
 * samples a latency figure rests on, and the row's flags. One accessor per
 * question, so every chart reads them the same way and from the summary the
 * CSV/Parquet outputs carry (never recounted from requests).
 */
import type { TableRow } from "../../formats/read-table.ts";

function finite(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * The sample size behind a latency figure such as `e2e_ms_p90`: the
 * summary's `<metric>_n` column (`e2e_ms_n`) where the row has it, else
 * `requests_ok` (summaries written before the `_n` columns: every ok request
 * in the window then fed every latency figure).
 */
export function latencySampleSize(row: TableRow, column: string): number | null {
  const metric = column.replace(/_(mean|p\d+)$/, "");
  const own = finite(row[`${metric}_n`]);
  return own ?? finite(row.requests_ok);
}

/** Requests a throughput figure counts: the completions inside the window. */
export function throughputSampleSize(row: TableRow): number | null {
  return finite(row.requests_ok);
}

/** The summary's reasons not to trust the row's latency figures (too few samples, …); null when none. */
export function latencyFlags(row: TableRow): string | null {
  const flags = row.latency_flags;
  return typeof flags === "string" && flags.trim() !== "" ? flags : null;
}

/** The load client may have set the row's figures (summary `client_limited`). */
export function clientLimited(row: TableRow): boolean {
  return row.client_limited === true;
}
