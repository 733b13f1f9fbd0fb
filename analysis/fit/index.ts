/**
 * `runFits`: read the summary, group it, fit every group, write
 * `agg/amdahl_fit.csv` and `agg/scaling_fits.parquet`. The campaign runner
 * and `vscale fit` call this; the fits themselves are pure (fit-group.ts).
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { ConfigError } from "../../common/errors.ts";
import { hashString } from "../../stats/hash.ts";
import { type FitOptions, fitPoints, type PointsFit } from "./fit-group.ts";
import { fitCsv, fitTable } from "./fit-rows.ts";
import {
  checkByColumns,
  defaultGroupColumns,
  type GroupKey,
  groupLabels,
  groupRows,
} from "./group.ts";
import { METRICS, type Metric, readSummary } from "./summary.ts";
import { writeParquet } from "./write-parquet.ts";

export interface GroupFit extends PointsFit {
  /** Full key (`users=32 parallelism=tp`). */
  group: string;
  /** Short label: only the key columns that differ between groups. */
  label: string;
  key: GroupKey;
  /** experiment_id of each point, in `points` order. */
  experiments: string[];
}

export interface SkippedGroup {
  group: string;
  key: GroupKey;
  reason: string;
}

export interface FitResult {
  groups: GroupFit[];
  skipped: SkippedGroup[];
  files: string[];
  metric: Metric;
  bootstrap: number;
  seed: number;
  /** Columns the groups were keyed on. */
  by: string[];
}

export interface RunFitsOptions {
  resultsDir: string;
  metric?: Metric;
  by?: string[];
  bootstrap?: number;
  seed?: number;
}

export const DEFAULT_BOOTSTRAP = 1000;
export const DEFAULT_SEED = 1;

export function fitPaths(resultsDir: string): { csv: string; parquet: string } {
  return {
    csv: join(resultsDir, "agg", "amdahl_fit.csv"),
    parquet: join(resultsDir, "agg", "scaling_fits.parquet"),
  };
}

/** Fit without writing: what runFits and the report share. */
export async function computeFits(opts: RunFitsOptions): Promise<FitResult> {
  const metric = opts.metric ?? "output_tokens_per_s";
  if (!METRICS.includes(metric))
    throw new ConfigError(`unknown metric "${metric}"`, {
      field: "--metric",
      hint: `expected one of ${METRICS.join(", ")}`,
    });
  const fitOptions: FitOptions = {
    bootstrap: opts.bootstrap ?? DEFAULT_BOOTSTRAP,
    seed: opts.seed ?? DEFAULT_SEED,
  };
  if (!Number.isInteger(fitOptions.bootstrap) || fitOptions.bootstrap < 0)
    throw new ConfigError("expected a whole number of bootstrap replicates ≥ 0", {
      field: "--bootstrap",
    });
  const summary = await readSummary(opts.resultsDir);
  if (!summary.columns.includes(metric))
    throw new ConfigError(`the summary has no column "${metric}"`, {
      file: summary.file,
      field: "--metric",
      hint: `columns present: ${METRICS.filter((m) => summary.columns.includes(m)).join(", ") || "none of the metrics"}`,
    });
  const by = opts.by && opts.by.length > 0 ? opts.by : defaultGroupColumns(summary.columns);
  checkByColumns(by, summary.columns);
  const ok = summary.rows.filter((r) => r.status === "ok");
  const groups = groupRows(ok, by);
  const labels = groupLabels(groups);
  const fitted: GroupFit[] = [];
  const skipped: SkippedGroup[] = [];
  for (const group of groups) {
    const rows = [...group.rows].sort((a, b) => a.gpus - b.gpus || a.repeat - b.repeat);
    const points = rows.map((r) => {
      const value = r[metric];
      return { n: r.gpus, x: typeof value === "number" ? value : Number.NaN };
    });
    const result = fitPoints(points, {
      ...fitOptions,
      seed: hashString(group.id, fitOptions.seed),
    });
    if (!result.ok) {
      skipped.push({ group: group.id, key: group.key, reason: result.reason });
      continue;
    }
    const kept = new Set(result.fit.points);
    fitted.push({
      ...result.fit,
      group: group.id,
      label: labels.get(group.id) ?? group.id,
      key: group.key,
      experiments: rows.filter((_, i) => kept.has(points[i] as never)).map((r) => r.experiment_id),
    });
  }
  return { groups: fitted, skipped, files: [], metric, ...fitOptions, by };
}

export async function runFits(opts: RunFitsOptions): Promise<FitResult> {
  const result = await computeFits(opts);
  const { csv, parquet } = fitPaths(opts.resultsDir);
  await writeFileAtomic(csv, fitCsv(result));
  await writeParquet(fitTable(result), parquet);
  return { ...result, files: [csv, parquet] };
}

export { formatFitTable } from "./format-table.ts";
