/**
 * The `results/` layout of what aggregation, fit and report exchange: the one
 * place that spells `agg/` and each file name in it. Table schemas name their
 * file from here (formats/agg-tables.ts, profile-tables.ts, fit-tables.ts).
 */
import { join } from "node:path";

/** Folder under the results directory holding the aggregated tables and the fits. */
export const AGG_DIR = "agg";

export const AGG_FILES = {
  summary: "summary.parquet",
  /** The same rows and columns as summary.parquet, for spreadsheets. */
  summaryCsv: "summary.csv",
  requests: "requests.parquet",
  gpu: "gpu.parquet",
  serverMetrics: "server_metrics.parquet",
  stepPhases: "step_phases.parquet",
  kernels: "kernels.parquet",
  ops: "ops.parquet",
  /** `vscale fit`'s tables: one row per group, the same columns in both. */
  fitCsv: "amdahl_fit.csv",
  fitParquet: "scaling_fits.parquet",
} as const;
export type AggFile = (typeof AGG_FILES)[keyof typeof AGG_FILES];

/** One profilemate table per CSV kind (seed 003). */
export function profilemateFile(kind: string): string {
  return `profilemate_${kind}.parquet`;
}

/** Matches profilemate table names, whatever the kind. */
export const PROFILEMATE_FILE_PATTERN = /^profilemate_[^/]+\.parquet$/;

export function aggDir(resultsDir: string): string {
  return join(resultsDir, AGG_DIR);
}

/** `<results>/agg/<file>`. */
export function aggPath(resultsDir: string, file: string): string {
  return join(resultsDir, AGG_DIR, file);
}

/** What `vscale report` writes at the top of the results directory. */
export const REPORT_FILES = { html: "report.html", figsDir: "figs" } as const;
