/**
 * The scaling fit of capacity (`vscale fit --metric capacity`): computeFits()
 * on the repeats whose capacity is an estimate, then each bound it refused
 * named where it belongs: a note on its group's fit, or in the reason a group
 * was not fitted (too few points left, or nothing but bounds). A bound says
 * where the capacity is not, so it is no point on a curve.
 */
import { computeFits, type FitRequest } from "../fit/compute.ts";
import { groupRows } from "../fit/group.ts";
import { type RunFitsOptions, writeFitTables } from "../fit/index.ts";
import type { FitResult } from "../fit/model.ts";
import type { CapacitySummary, RefusedPoint } from "./table.ts";

const listed = (refused: readonly RefusedPoint[]) =>
  refused.map((r) => `${r.row.experiment_id}: ${r.reason}`).join("; ");

export function capacityFits(summary: CapacitySummary, request: FitRequest): FitResult {
  const result = computeFits(summary, request);
  if (summary.refused.length === 0) return result;
  // The estimates and the bounds grouped together, so each bound lands in the group its fit has.
  const refusedIds = new Set(summary.refused.map((r) => r.row.experiment_id));
  const byId = new Map(summary.refused.map((r) => [r.row.experiment_id, r]));
  const all = groupRows([...summary.rows, ...summary.refused.map((r) => r.row)], result.by);
  const groups = result.groups.map((g) => ({ ...g, notes: [...g.notes] }));
  const skipped = result.skipped.map((s) => ({ ...s }));
  for (const group of all) {
    const refused = group.rows
      .filter((r) => refusedIds.has(r.experiment_id))
      .map((r) => byId.get(r.experiment_id) as RefusedPoint);
    if (refused.length === 0) continue;
    const text = `${refused.length} capacity bound(s) left out of the fit: ${listed(refused)}`;
    const fitted = groups.find((g) => g.group === group.id);
    const skip = skipped.find((s) => s.group === group.id);
    if (fitted) fitted.notes.push(text);
    else if (skip) skip.reason = `${skip.reason}; ${text}`;
    else
      skipped.push({
        group: group.id,
        key: group.key,
        reason: `not fitted: every capacity is a bound, none an estimate (${listed(refused)})`,
      });
  }
  return { ...result, groups, skipped };
}

/** capacityFits() written to the fit tables, as runFits() does for a summary column. */
export async function runCapacityFits(
  opts: RunFitsOptions & { summary: CapacitySummary },
): Promise<FitResult> {
  const result = capacityFits(opts.summary, opts);
  return { ...result, files: await writeFitTables(opts.resultsDir, result) };
}
