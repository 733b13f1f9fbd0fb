/**
 * FitResult → the rows of the fit tables (formats/fit-tables.ts): one flat row
 * per group, fitted or skipped, the shape of both `amdahl_fit.csv` and
 * `scaling_fits.parquet`. fit-decode.ts is the inverse.
 */
import type { ColumnDef, ColumnType } from "../../formats/agg-tables.ts";
import { type FitColumnName, fitTableColumns } from "../../formats/fit-tables.ts";
import type { Cell, Row } from "../aggregate/duck.ts";
import type { FitResult, GroupFit, GroupKey, SkippedGroup } from "./model.ts";

function finiteOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

/** A key column's type follows its values (factors are numbers, booleans or names). */
function keyColumns(all: readonly { key: GroupKey }[]): ColumnDef[] {
  const names = [...new Set(all.flatMap((g) => Object.keys(g.key)))];
  return names.map((name) => {
    const value = all.map((g) => g.key[name]).find((v) => v !== null && v !== undefined);
    const type: ColumnType =
      typeof value === "number" ? "float64" : typeof value === "boolean" ? "bool" : "string";
    return {
      name,
      type,
      nullable: true,
      doc: `group key \`${name}\``,
      computedIn: "analysis/fit/group.ts groupRows()",
    };
  });
}

type FitRow = Record<FitColumnName, Cell>;

function optionCells(
  result: FitResult,
): Pick<FitRow, "metric" | "by" | "bootstrap" | "seed" | "ci" | "exclude_client_limited"> {
  return {
    ci: result.ci,
    exclude_client_limited: result.excludeClientLimited,
    metric: result.metric,
    by: result.by.join(","),
    bootstrap: result.bootstrap,
    seed: result.seed,
  };
}

function fittedRow(result: FitResult, g: GroupFit): FitRow {
  const { amdahl, usl, karpFlatt } = g;
  const n = finiteOrNull;
  return {
    group: g.group,
    ...optionCells(result),
    status: "fitted",
    reason: g.notes.join("; ") || null,
    n_points: g.points.length,
    n_distinct_gpus: g.distinctN.length,
    gpus_measured: g.distinctN.join(";"),
    dropped_points: g.dropped,
    s: n(amdahl.s),
    s_ci_low: n(amdahl.ci?.low),
    s_ci_high: n(amdahl.ci?.high),
    bootstrap_b: n(amdahl.ci?.replicates),
    ci_method: amdahl.ci?.method ?? null,
    bootstrap_seed: result.seed,
    x1: n(amdahl.x1),
    s_linear: n(amdahl.sLinear),
    superlinear: amdahl.superlinear,
    r2: n(amdahl.r2),
    rmse: n(amdahl.rmse),
    ceiling_speedup: n(amdahl.ceilingSpeedup),
    ceiling_throughput: n(amdahl.ceilingThroughput),
    predict_gpus: n(amdahl.predictAtN),
    predicted_throughput: n(amdahl.predicted),
    usl_lambda: n(usl.lambda),
    usl_sigma: n(usl.sigma),
    usl_kappa: n(usl.kappa),
    usl_peak_gpus: n(usl.peakN),
    usl_r2: n(usl.r2),
    usl_rmse: n(usl.rmse),
    usl_shown: usl.shown,
    aicc_amdahl: n(usl.aiccAmdahl),
    aicc_usl: n(usl.aiccUsl),
    load_scaling: g.gustafson.scaling,
    karp_flatt_trend: karpFlatt.trend,
    karp_flatt_baseline: karpFlatt.baseline,
    // Full precision (String(e) round-trips): the report draws e(N) from this column.
    karp_flatt: karpFlatt.points.map((p) => `${p.n}:${p.e}`).join(";"),
    gustafson_s: g.gustafson.s,
    scaled_speedup: g.gustafson.points.map((p) => `${p.n}:${p.speedup}`).join(";"),
    label: g.label,
    ci_note: amdahl.ciNote,
    notes: JSON.stringify(g.notes),
    points: g.points.map((p) => `${p.n}:${p.x}`).join(";"),
    experiments: JSON.stringify(g.experiments),
  };
}

function skippedRow(result: FitResult, g: SkippedGroup): FitRow {
  const row = Object.fromEntries(
    fitTableColumns([]).map((c) => [c.name, null]),
  ) as unknown as FitRow;
  return { ...row, group: g.group, ...optionCells(result), status: "skipped", reason: g.reason };
}

/** The fit tables' columns (with this result's key columns) and one row per group. */
export function fitRows(result: FitResult): { columns: ColumnDef[]; rows: Row[] } {
  const all = [...result.groups, ...result.skipped];
  const keys = keyColumns(all);
  const withKey = (row: FitRow, key: GroupKey): Row => ({
    ...Object.fromEntries(keys.map((k) => [k.name, key[k.name] ?? null])),
    ...row,
  });
  return {
    columns: fitTableColumns(keys),
    rows: [
      ...result.groups.map((g) => withKey(fittedRow(result, g), g.key)),
      ...result.skipped.map((g) => withKey(skippedRow(result, g), g.key)),
    ],
  };
}
