/**
 * The fit tables `vscale fit` writes: `agg/amdahl_fit.csv` and
 * `agg/scaling_fits.parquet`, one row per group (fitted or skipped), the same
 * columns in both. They hold the whole FitResult (analysis/fit/model.ts), so
 * the report draws from them without fitting again; `metric`, `by`,
 * `bootstrap` and `seed` record the options they were fitted with, which is
 * how a reader tells whether they are stale.
 */

import { AGG_FILES } from "./agg-layout.ts";
import { type ColumnDef, type ColumnType, col, type TableDef } from "./agg-tables.ts";

const FIT_GROUP = "analysis/fit/group.ts groupRows()";
const FIT_OPTIONS = "analysis/fit/compute.ts computeFits() (the command's flags)";
const FIT_POINTS = "analysis/fit/fit-group.ts fitPoints() (points.ts cleanPoints())";
const FIT_AMDAHL = "analysis/fit/amdahl.ts fitAmdahl()";
const FIT_CI = "analysis/fit/bootstrap.ts bootstrapS()";
const FIT_DERIVED = "analysis/fit/fit-group.ts fitPoints()";
const FIT_USL = "analysis/fit/usl.ts fitUsl()";
const FIT_KF = "analysis/fit/karp-flatt.ts karpFlatt()";
const FIT_GUSTAFSON = "analysis/fit/gustafson.ts fitGustafson()";
const FIT_USL_CLAIM = "analysis/fit/usl-claim.ts uslClaim()";

const fc = <N extends string>(
  name: N,
  type: ColumnType,
  doc: string,
  computedIn: string,
  nullable = true,
): ColumnDef & { name: N } => ({ ...col(name, type, doc, nullable), name, computedIn });

export const FIT_GROUP_COLUMN = fc(
  "group",
  "string",
  "full group key, `name=value` joined by spaces (stable across runs); the key's columns follow it, one per `by` column",
  FIT_GROUP,
  false,
);

/** Every column after the group key's own columns, in file order. */
export const FIT_VALUE_COLUMNS = [
  fc("metric", "string", "throughput column fitted (`--metric`)", FIT_OPTIONS, false),
  fc("status", "string", "`fitted` or `skipped`", FIT_DERIVED, false),
  fc("reason", "string", "why the group was skipped, or its notes joined by `; `", FIT_DERIVED),
  fc("n_points", "int64", "points fitted (one per ok experiment)", FIT_POINTS),
  fc("n_distinct_gpus", "int64", "distinct GPU counts among them", FIT_POINTS),
  fc("gpus_measured", "string", "those GPU counts, `;`-separated", FIT_POINTS),
  fc("dropped_points", "int64", "points left out: missing, NaN or zero throughput", FIT_POINTS),
  fc("s", "float64", "Amdahl sequential fraction (0 ≤ s ≤ 1)", FIT_AMDAHL),
  fc(
    "s_ci_low",
    "float64",
    "95% bootstrap interval for s, low end (null without repeats unless `--ci residual`: see ci_note)",
    FIT_CI,
  ),
  fc("s_ci_high", "float64", "95% bootstrap interval for s, high end", FIT_CI),
  fc("bootstrap_b", "int64", "bootstrap replicates behind the interval", FIT_CI),
  fc(
    "ci_method",
    "string",
    "how the interval was made: `within-n` (runs resampled within each GPU count) or `residual` (the fit's residuals resampled, only with `--ci residual` where a group has no repeats: it assumes Amdahl holds); null when there is no interval",
    FIT_CI,
  ),
  fc(
    "bootstrap_seed",
    "int64",
    "base bootstrap seed (each group hashes its key into it)",
    FIT_OPTIONS,
  ),
  fc("x1", "float64", "fitted single-GPU throughput X₁", FIT_AMDAHL),
  fc("s_linear", "float64", "s of the linearised fit (unconstrained): a cross-check", FIT_AMDAHL),
  fc(
    "superlinear",
    "bool",
    "the reported fit's s sits at its bound 0: the data scale linearly or better",
    FIT_AMDAHL,
  ),
  fc("r2", "float64", "R² of the Amdahl fit", FIT_AMDAHL),
  fc("rmse", "float64", "RMSE of the Amdahl fit (metric units)", FIT_AMDAHL),
  fc("ceiling_speedup", "float64", "speedup ceiling 1/s (null when s = 0)", FIT_DERIVED),
  fc("ceiling_throughput", "float64", "throughput ceiling X₁/s", FIT_DERIVED),
  fc("predict_gpus", "int64", "2 × the largest GPU count measured", FIT_DERIVED),
  fc("predicted_throughput", "float64", "Amdahl's throughput at predict_gpus", FIT_DERIVED),
  fc("usl_lambda", "float64", "USL λ (single-GPU throughput)", FIT_USL),
  fc("usl_sigma", "float64", "USL σ (contention)", FIT_USL),
  fc("usl_kappa", "float64", "USL κ (coherency)", FIT_USL),
  fc(
    "usl_peak_gpus",
    "float64",
    "USL peak N* = √((1 − σ)/κ), claimed: null unless usl_shown and N* lies within [smallest N, 2 × largest N]",
    FIT_USL_CLAIM,
  ),
  fc("usl_r2", "float64", "R² of the USL fit", FIT_USL),
  fc("usl_rmse", "float64", "RMSE of the USL fit", FIT_USL),
  fc(
    "usl_shown",
    "bool",
    "USL may be shown: ≥ 5 distinct GPU counts and its AICc below Amdahl's by more than 2 (otherwise its parameters are kept but not shown)",
    FIT_USL_CLAIM,
  ),
  fc("aicc_amdahl", "float64", "AICc of the Amdahl fit on all points", FIT_USL_CLAIM),
  fc("aicc_usl", "float64", "AICc of the USL fit on all points", FIT_USL_CLAIM),
  fc("karp_flatt_trend", "string", "`rising`, `falling`, `flat` or `n/a`", FIT_KF),
  fc("karp_flatt_baseline", "string", "X(1) measured at N = 1, or `fitted` X₁", FIT_KF),
  fc("karp_flatt", "string", "e(N) per GPU count, `N:e` `;`-separated", FIT_KF),
  fc(
    "load_scaling",
    "string",
    "how the group's offered load moved with N: `weak` (the same per GPU), `strong` (the same), `unknown`",
    "analysis/fit/gustafson.ts loadScaling()",
  ),
  fc(
    "gustafson_s",
    "float64",
    "Gustafson's serial fraction: S(N) = N − s(N − 1) fitted to the scaled speedups; null unless load_scaling is `weak` (a note flags s outside [0, 1])",
    FIT_GUSTAFSON,
  ),
  fc(
    "scaled_speedup",
    "string",
    "X(N)/X(1) per GPU count above 1, `N:S` `;`-separated (Gustafson's scaled speedup); empty unless load_scaling is `weak`",
    FIT_GUSTAFSON,
  ),
  fc(
    "label",
    "string",
    "short label: only the key columns that differ between groups",
    "analysis/fit/group.ts groupLabels()",
  ),
  fc(
    "by",
    "string",
    "columns grouped by (`--by`, or the default), `,`-separated",
    FIT_OPTIONS,
    false,
  ),
  fc("bootstrap", "int64", "bootstrap replicates asked for (`--bootstrap`)", FIT_OPTIONS, false),
  fc("seed", "int64", "bootstrap seed asked for (`--seed`)", FIT_OPTIONS, false),
  fc(
    "ci",
    "string",
    "CI method asked for (`--ci`): `runs` (repeats resampled; no interval without them) or `residual` (residuals where a group has no repeats); null in older files (= `residual`, their only fallback)",
    FIT_OPTIONS,
  ),
  fc(
    "exclude_client_limited",
    "bool",
    "client-limited experiments (summary `client_limited`) were left out (`--exclude-client-limited`); null in older files (= false)",
    FIT_OPTIONS,
  ),
  fc("ci_note", "string", "why there is no interval for s", FIT_CI),
  fc("notes", "string", "the group's notes, as a JSON array of strings", FIT_DERIVED),
  fc(
    "points",
    "string",
    "the fitted points, `N:throughput` `;`-separated, in experiments order",
    FIT_POINTS,
  ),
  fc("experiments", "string", "experiment_id of each point, as a JSON array", FIT_OPTIONS),
] as const;

export type FitColumnName = (typeof FIT_VALUE_COLUMNS)[number]["name"] | "group";

/** The file's columns: `group`, then the key columns (as the fit typed them), then the values. */
export function fitTableColumns(keyColumns: readonly ColumnDef[]): ColumnDef[] {
  return [FIT_GROUP_COLUMN, ...keyColumns, ...FIT_VALUE_COLUMNS];
}

const FIT_DOC =
  "One row per group (fitted or skipped) of `vscale fit`: Amdahl (LM) with a bootstrap CI on s, USL and Karp–Flatt; the key columns of the grouping follow `group`. `amdahl_fit.csv` holds the same rows and columns.";

export const FIT_TABLE: TableDef = {
  file: AGG_FILES.fitParquet,
  doc: FIT_DOC,
  sortedBy: ["fitted groups by `group`", "then skipped groups by `group`"],
  computedIn: "analysis/fit/fit-rows.ts fitRows()",
  columns: [FIT_GROUP_COLUMN, ...FIT_VALUE_COLUMNS],
};

export const FIT_TABLES: readonly TableDef[] = [FIT_TABLE];
