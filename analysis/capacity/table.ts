/**
 * Summary rows → capacity per scaling group and GPU count (capacity.ts), and
 * the same as summary-shaped rows so the Amdahl/USL fit runs on capacity
 * (`vscale fit --metric capacity`). Only ok rows of open-loop experiments
 * with an offered `rate` count: capacity is a rate the server is offered.
 */
import { defaultGroupColumns, groupRows } from "../fit/group.ts";
import type { GroupKey } from "../fit/model.ts";
import type { Summary, SummaryRow } from "../fit/summary.ts";
import {
  type GroupCapacity,
  groupCapacity,
  type RatePoint,
  type Slo,
  type SweepCapacity,
} from "./capacity.ts";

export const CAPACITY_METRIC = "capacity_rps";

export interface CapacityRow {
  group: string;
  key: GroupKey;
  gpus: number;
  tp: number;
  dp: number;
  rates: number;
  result: GroupCapacity;
}

export function sloText(slo: Slo): string {
  return Object.entries(slo)
    .map(([k, v]) => `${k}<=${v}`)
    .join("; ");
}

/** The group columns of a capacity curve: the fit's default key without the load level (rate, sweep step). */
export function capacityGroupColumns(columns: readonly string[]): string[] {
  return defaultGroupColumns(columns).filter(
    (c) => c !== "rate" && c !== "users" && c !== "sweep_step",
  );
}

function pointOf(row: SummaryRow, slo: Slo): RatePoint | null {
  const rate = row.rate;
  if (row.mode !== "open" || typeof rate !== "number") return null;
  const values = Object.fromEntries(
    Object.keys(slo).map((k) => [k, typeof row[k] === "number" ? (row[k] as number) : null]),
  );
  return { rate, values, experimentId: row.experiment_id };
}

export function capacityRows(summary: Summary, slo: Slo): CapacityRow[] {
  const ok = summary.rows.filter((r) => r.status === "ok" && pointOf(r, slo) !== null);
  const out: CapacityRow[] = [];
  for (const group of groupRows(ok, capacityGroupColumns(summary.columns))) {
    const byGpus = new Map<number, SummaryRow[]>();
    for (const r of group.rows) byGpus.set(r.gpus, [...(byGpus.get(r.gpus) ?? []), r]);
    for (const [gpus, rows] of [...byGpus.entries()].sort(([a], [b]) => a - b)) {
      const byRepeat = new Map<number, RatePoint[]>();
      for (const r of rows) {
        byRepeat.set(r.repeat, [...(byRepeat.get(r.repeat) ?? []), pointOf(r, slo) as RatePoint]);
      }
      const first = rows[0] as SummaryRow;
      out.push({
        group: group.id,
        key: group.key,
        gpus,
        tp: first.tp,
        dp: first.dp,
        rates: new Set(rows.map((r) => r.rate)).size,
        result: groupCapacity(byRepeat, slo),
      });
    }
  }
  return out;
}

/** The capacity.csv rows (formats/capacity-table.ts columns). */
export function capacityCsvRows(rows: readonly CapacityRow[], slo: Slo) {
  return rows.map((r) => ({
    group: r.group,
    gpus: r.gpus,
    slo: sloText(slo),
    repeats: r.result.repeats.length,
    rates: r.rates,
    capacity_rps: r.result.capacity,
    ci_low: r.result.ciLow,
    ci_high: r.result.ciHigh,
    capacity_per_gpu: r.result.capacity === null ? null : r.result.capacity / r.gpus,
    bound: r.result.bound,
    knee_rate_rps: r.result.kneeRate,
    limited_by: r.result.repeats.find((x) => x.sweep.limitedBy !== null)?.sweep.limitedBy ?? null,
  }));
}

/** A repeat's capacity that is only a bound: kept out of every fit (fit.ts). */
export interface RefusedPoint {
  /** The row it would have been, capacity left out. */
  row: SummaryRow;
  /** `≥ 12.00 req/s (every rate met the SLO)`. */
  reason: string;
}

/** Capacity per repeat as summary rows, and the repeats whose capacity is only a bound. */
export interface CapacitySummary extends Summary {
  refused: RefusedPoint[];
}

export function isCapacitySummary(summary: Summary): summary is CapacitySummary {
  return Array.isArray((summary as Partial<CapacitySummary>).refused);
}

/** Why a sweep's capacity is a bound (null: it is an estimate). */
export function boundReason(sweep: SweepCapacity): string | null {
  if (sweep.bound === "upper") return "no rate met the SLO";
  if (sweep.bound !== "lower") return null;
  return sweep.kneeRate === null
    ? "every rate met the SLO"
    : `the next rate, ${sweep.kneeRate.toFixed(2)}, has no figure to interpolate to`;
}

/** How a sweep's capacity reads: `12.30 req/s`, `≥ 12.00 req/s (every rate met the SLO)`. */
export function sweepText(sweep: SweepCapacity): string {
  const v = sweep.capacity === null ? "-" : `${sweep.capacity.toFixed(2)} req/s`;
  const why = boundReason(sweep);
  return why === null ? v : `${sweep.bound === "lower" ? "≥" : "<"} ${v} (${why})`;
}

/**
 * Capacity per repeat as summary rows (one per group, GPU count and repeat),
 * so computeFits() fits the scaling of capacity exactly as of throughput.
 * Only estimates become points: a bound is not where the capacity is, so a
 * repeat whose sweep gave one is listed in `refused` instead.
 */
export function capacitySummary(summary: Summary, slo: Slo): CapacitySummary {
  const rows: SummaryRow[] = [];
  const refused: RefusedPoint[] = [];
  for (const c of capacityRows(summary, slo)) {
    for (const { repeat, sweep } of c.result.repeats) {
      if (sweep.capacity === null) continue;
      const row = {
        ...(c.key as Record<string, string | number | boolean | null>),
        experiment_id: `capacity g${c.gpus} r${repeat} (${c.group})`,
        campaign: String(c.key.campaign ?? ""),
        repeat,
        status: "ok",
        gpus: c.gpus,
        tp: c.tp,
        dp: c.dp,
        [CAPACITY_METRIC]: sweep.bound === null ? sweep.capacity : null,
      } as SummaryRow;
      if (sweep.bound === null) rows.push(row);
      else refused.push({ row, reason: sweepText(sweep) });
    }
  }
  const columns = [
    ...new Set([
      ...[...rows, ...refused.map((r) => r.row)].flatMap((r) => Object.keys(r)),
      CAPACITY_METRIC,
      "gpus",
      "tp",
      "dp",
    ]),
  ].filter((c) => c !== "parallelism");
  return { file: `${summary.file} (capacity at ${sloText(slo)})`, columns, rows, refused };
}
