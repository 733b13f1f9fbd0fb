/**
 * The capacity stage's edge: summary in, `results/agg/capacity.csv` out
 * (written to a temp file and renamed), the rows handed back for the console,
 * the report and the capacity fit.
 */
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { aggPath } from "../../formats/agg-layout.ts";
import { CAPACITY_COLUMNS, CAPACITY_FILE } from "../../formats/capacity-table.ts";
import { tableCsv } from "../aggregate/table-csv.ts";
import type { Summary } from "../fit/summary.ts";
import type { Slo } from "./capacity.ts";
import { type CapacityRow, capacityCsvRows, capacityRows } from "./table.ts";

export type { CapacityRow } from "./table.ts";
export { CAPACITY_METRIC, capacitySummary, sloText } from "./table.ts";

export function capacityPath(resultsDir: string): string {
  return aggPath(resultsDir, CAPACITY_FILE);
}

export async function writeCapacity(
  resultsDir: string,
  summary: Summary,
  slo: Slo,
): Promise<{ file: string; rows: CapacityRow[] }> {
  const rows = capacityRows(summary, slo);
  const file = capacityPath(resultsDir);
  await writeFileAtomic(file, tableCsv(CAPACITY_COLUMNS, capacityCsvRows(rows, slo)));
  return { file, rows };
}

/** One console line per row: `g4  capacity 12.3 req/s [11.8, 12.9]  (interpolated, knee 14)`. */
export function formatCapacity(rows: readonly CapacityRow[], slo: Slo): string[] {
  const n = (v: number | null) => (v === null ? "-" : v.toFixed(2));
  const lines = [
    `capacity at ${Object.entries(slo)
      .map(([k, v]) => `${k} ≤ ${v}`)
      .join(", ")}:`,
  ];
  for (const r of rows) {
    const ci =
      r.result.ciLow === null ? "" : ` 95% CI [${n(r.result.ciLow)}, ${n(r.result.ciHigh)}]`;
    lines.push(
      `  ${r.group} g${r.gpus}: ${n(r.result.capacity)} req/s${ci} (${r.result.bound}, knee ${n(r.result.kneeRate)})`,
    );
  }
  if (rows.length === 0)
    lines.push("  no open-loop experiments with a rate: nothing to measure capacity on");
  return lines;
}
