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
import type { GroupCapacity, Slo } from "./capacity.ts";
import {
  boundReason,
  type CapacityRow,
  capacityCsvRows,
  capacityRows,
  sweepText,
} from "./table.ts";

export type { CapacityRow, CapacitySummary } from "./table.ts";
export { CAPACITY_METRIC, capacitySummary, isCapacitySummary, sloText } from "./table.ts";

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

/** How a group's capacity reads: the estimate with its interval, or the bound as a bound. */
export function capacityText(result: GroupCapacity): string {
  const n = (v: number | null) => (v === null ? "-" : v.toFixed(2));
  const reps = `${result.repeats.length} repeat${result.repeats.length === 1 ? "" : "s"}`;
  if (result.disagree)
    return `no figure: repeats disagree (${result.repeats.map((r) => `r${r.repeat} ${sweepText(r.sweep)}`).join("; ")})`;
  if (result.bound !== null) {
    const why = result.repeats.flatMap((r) => boundReason(r.sweep) ?? []);
    const sign = result.bound === "lower" ? "≥" : "<";
    return `${sign} ${n(result.capacity)} req/s (${[...new Set(why)].join("; ")}; ${reps})`;
  }
  const ci = result.ciLow === null ? "" : ` 95% CI [${n(result.ciLow)}, ${n(result.ciHigh)}]`;
  return `${n(result.capacity)} req/s${ci} (interpolated, knee ${n(result.kneeRate)}; ${reps})`;
}

/** One console line per row: `g4: 12.30 req/s 95% CI [11.80, 12.90] (interpolated, knee 14.00; 3 repeats)`. */
export function formatCapacity(rows: readonly CapacityRow[], slo: Slo): string[] {
  const lines = [
    `capacity at ${Object.entries(slo)
      .map(([k, v]) => `${k} ≤ ${v}`)
      .join(", ")}:`,
  ];
  for (const r of rows) lines.push(`  ${r.group} g${r.gpus}: ${capacityText(r.result)}`);
  if (rows.length === 0)
    lines.push("  no open-loop experiments with a rate: nothing to measure capacity on");
  return lines;
}
