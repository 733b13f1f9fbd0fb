/**
 * The fit stage's edges: `runFits` reads the summary (once), fits
 * (compute.ts, pure) and writes the fit tables; `fitsFor` is what the report
 * uses: the tables `vscale fit` wrote when they are fresh, else one fit.
 */
import { stat } from "node:fs/promises";
import { withAtomicFile, writeFileAtomic } from "../../common/atomic-write.ts";
import { DataError } from "../../common/errors.ts";
import { AGG_FILES, aggPath } from "../../formats/agg-layout.ts";
import { FIT_TABLE } from "../../formats/fit-tables.ts";
import { readOptionalTable } from "../../formats/read-table.ts";
import { writeParquetRows } from "../aggregate/parquet-file.ts";
import { tableCsv } from "../aggregate/table-csv.ts";
import { checkFitRequest, computeFits, type FitRequest, resolveFitOptions } from "./compute.ts";
import { decodeFitRows } from "./fit-decode.ts";
import { fitRows } from "./fit-rows.ts";
import type { FitOptions, FitResult } from "./model.ts";
import { readSummary, type Summary } from "./summary.ts";

export {
  DEFAULT_BOOTSTRAP,
  DEFAULT_METRIC,
  DEFAULT_SEED,
  type FitRequest,
} from "./compute.ts";
export { ciMethodLabel, formatFitTable } from "./format-table.ts";
export type { FitResult, GroupFit, SkippedGroup } from "./model.ts";

export interface RunFitsOptions extends FitRequest {
  resultsDir: string;
  /** The summary, when the caller has read it already (a campaign reads it once). */
  summary?: Summary;
}

export function fitPaths(resultsDir: string): { csv: string; parquet: string } {
  return {
    csv: aggPath(resultsDir, AGG_FILES.fitCsv),
    parquet: aggPath(resultsDir, AGG_FILES.fitParquet),
  };
}

/** The one writer of both fit tables: the same columns and rows from one FitResult. */
export async function writeFitTables(resultsDir: string, result: FitResult): Promise<string[]> {
  const { csv, parquet } = fitPaths(resultsDir);
  const { columns, rows } = fitRows(result);
  await writeFileAtomic(csv, tableCsv(columns, rows));
  await withAtomicFile(parquet, (tmp) => writeParquetRows(tmp, columns, rows));
  return [csv, parquet];
}

export async function runFits(opts: RunFitsOptions): Promise<FitResult> {
  checkFitRequest(opts);
  const summary = opts.summary ?? (await readSummary(opts.resultsDir));
  const result = computeFits(summary, opts);
  return { ...result, files: await writeFitTables(opts.resultsDir, result) };
}

/** The FitResult stored in `scaling_fits.parquet`, or null when there is none to read. */
export async function readFitTables(resultsDir: string): Promise<FitResult | null> {
  const { parquet } = fitPaths(resultsDir);
  const table = await readOptionalTable(FIT_TABLE, parquet);
  return table ? decodeFitRows(table.rows, table.columns, parquet) : null;
}

function sameOptions(a: FitOptions, b: FitOptions): boolean {
  return (
    a.metric === b.metric &&
    a.bootstrap === b.bootstrap &&
    a.seed === b.seed &&
    a.ci === b.ci &&
    a.excludeClientLimited === b.excludeClientLimited &&
    a.by.join(",") === b.by.join(",")
  );
}

/** Why the stored fits cannot be used (null: they can). */
async function staleness(
  resultsDir: string,
  stored: FitResult | null,
  wanted: FitOptions,
  summaryFile: string,
): Promise<string | null> {
  if (!stored) return "no fit tables with recorded options";
  if (!sameOptions(stored, wanted))
    return "fitted with other --metric/--by/--bootstrap/--seed/--ci";
  const [fits, summary] = await Promise.all([
    stat(fitPaths(resultsDir).parquet),
    stat(summaryFile),
  ]);
  return fits.mtimeMs < summary.mtimeMs ? "older than the summary" : null;
}

export interface FitsFor {
  result: FitResult;
  /** Why the stored fit tables were not used and a fit was run (null: they were used). */
  refitted: string | null;
}

/**
 * The fits a reader (the report) should show for these options: the stored
 * fit tables when they are fresh (written after summary.parquet, with the same
 * metric, grouping, bootstrap B and seed), else one fit, written to the tables.
 */
export async function fitsFor(opts: RunFitsOptions & { summary: Summary }): Promise<FitsFor> {
  const wanted = resolveFitOptions(opts.summary, opts);
  let stored: FitResult | null;
  let unreadable: string | null = null;
  try {
    stored = await readFitTables(opts.resultsDir);
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    stored = null;
    unreadable = `unreadable fit tables (${error.format()})`;
  }
  const why = unreadable ?? (await staleness(opts.resultsDir, stored, wanted, opts.summary.file));
  if (why === null && stored) return { result: stored, refitted: null };
  return { result: await runFits(opts), refitted: why };
}
