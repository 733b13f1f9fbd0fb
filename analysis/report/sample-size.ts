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

/** The summary's reasons for the row's null latency figures (`latency_flags`); null when none. */
export function latencyFlags(row: TableRow): string | null {
  const flags = row.latency_flags;
  return typeof flags === "string" && flags.trim() !== "" ? flags : null;
}

/**
 * The `latency_flags` phrase about one figure (`e2e_ms_p99` →
 * `e2e_ms p90/p99 null: 37 values < 100`), or null when none names it.
 */
export function latencyFlagFor(row: TableRow, column: string): string | null {
  const m = /^(.*)_(mean|p\d+)$/.exec(column);
  const flags = latencyFlags(row);
  if (!m || flags === null) return null;
  const [, metric, stat] = m;
  return (
    flags.split("; ").find((phrase) => {
      if (!phrase.startsWith(`${metric} `)) return false;
      const names = phrase.slice(`${metric} `.length).split(" null:")[0] ?? "";
      return names.split("/").includes(stat as string);
    }) ?? null
  );
}

/** The load client may have set the row's figures (summary `client_limited`). */
export function clientLimited(row: TableRow): boolean {
  return row.client_limited === true;
}
