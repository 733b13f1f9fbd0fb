/** The summary rows as CSV (RFC 4180 quoting; empty cell = null) for spreadsheet users. */

import type { ColumnDef } from "../../formats/agg-tables.ts";
import type { Row } from "./arrow-batch.ts";

function csvCell(value: Row[string]): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "number" && !Number.isFinite(value) ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function summaryCsv(columns: readonly ColumnDef[], rows: readonly Row[]): string {
  const lines = [columns.map((c) => c.name).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c.name])).join(","));
  return `${lines.join("\n")}\n`;
}
