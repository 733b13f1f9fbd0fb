/**
 * What analysis needs from `results/agg/summary.parquet` (the contract is
 * aggregation's; this checks only the columns the fits and report rely on, and
 * keeps every other column as it came).
 */
import { join } from "node:path";
import { z } from "zod";
import { DataError } from "../../common/errors.ts";
import { type ParquetRow, readParquetRows } from "./read-parquet.ts";

export const METRICS = ["output_tokens_per_s", "requests_per_s", "total_tokens_per_s"] as const;
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
export type SummaryRow = z.infer<typeof SummaryRowSchema> & ParquetRow;

export interface Summary {
  file: string;
  columns: string[];
  rows: SummaryRow[];
}

export function summaryPath(resultsDir: string): string {
  return join(resultsDir, "agg", "summary.parquet");
}

export async function readSummary(resultsDir: string): Promise<Summary> {
  const file = summaryPath(resultsDir);
  const { columns, rows } = await readParquetRows(file);
  const parsed = rows.map((row, i) => {
    const result = SummaryRowSchema.safeParse(row);
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = issue?.path.join(".") ?? "";
      throw new DataError(`row ${i + 1}: ${issue?.message ?? "invalid row"}`, {
        file,
        field,
        hint: columns.includes(field)
          ? `got ${JSON.stringify(row[field])}`
          : `column \`${field}\` is missing`,
      });
    }
    return row as SummaryRow;
  });
  return { file, columns, rows: parsed };
}
