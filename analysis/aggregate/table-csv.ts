/**
 * A table's rows as CSV (RFC 4180 quoting; empty cell = null) for spreadsheet
 * users: `summary.csv` and `amdahl_fit.csv` both come from here.
 */

import type { ColumnDef } from "../../formats/agg-tables.ts";
import type { Row } from "./duck.ts";

function csvCell(value: Row[string]): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "number" && !Number.isFinite(value) ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function tableCsv(columns: readonly ColumnDef[], rows: readonly Row[]): string {
  const lines = [columns.map((c) => c.name).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c.name])).join(","));
  return `${lines.join("\n")}\n`;
}
