/**
 * What the fit and the report need from `agg/summary.parquet`, read through
 * readTable (formats/read-table.ts checks every column against
 * formats/agg-tables.ts SUMMARY_TABLE); this adds only what analysis relies on
 * beyond the types, and keeps every other column as it came.
 */
import { z } from "zod";
import { AGG_FILES, aggPath } from "../../formats/agg-layout.ts";
import { SUMMARY_TABLE } from "../../formats/agg-tables.ts";
import { readTable, type TableRow } from "../../formats/read-table.ts";

/** `capacity_rps`: capacity at an SLO (analysis/capacity/), fitted from `capacitySummary()`'s rows. */
export const METRICS = [
  "output_tokens_per_s",
  "requests_per_s",
  "total_tokens_per_s",
  "capacity_rps",
] as const;
export type Metric = (typeof METRICS)[number];

const count = z.number().int().positive();

export const SummaryRowSchema = z.looseObject({
  campaign: z.string(),
  experiment_id: z.string(),
  repeat: z.number().int(),
  status: z.enum(["ok", "failed", "interrupted"]),
  status_reason: z.string().nullable().optional(),
  gpus: count,
  tp: count,
  dp: count,
});
export type SummaryRow = z.infer<typeof SummaryRowSchema> & TableRow;

export interface Summary {
  file: string;
  columns: string[];
  rows: SummaryRow[];
}

export function summaryPath(resultsDir: string): string {
  return aggPath(resultsDir, AGG_FILES.summary);
}

export async function readSummary(resultsDir: string): Promise<Summary> {
  const { file, columns, rows } = await readTable(
    SUMMARY_TABLE,
    summaryPath(resultsDir),
    SummaryRowSchema,
  );
  return { file, columns, rows: rows as SummaryRow[] };
}
