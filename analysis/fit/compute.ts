/**
 * computeFits(): a read summary in, one FitResult out. Pure (no files): the
 * options are checked against the summary's columns, the ok rows grouped and
 * every group fitted (fit-group.ts). Reading and writing are index.ts's job.
 */
import { ConfigError } from "../../common/errors.ts";
import { hashString } from "../../stats/hash.ts";
import { CI_MODES, type CiMode } from "./bootstrap.ts";
import { fitPoints } from "./fit-group.ts";
import { checkByColumns, defaultGroupColumns, groupLabels, groupRows } from "./group.ts";
import { type LoadScaling, loadScaling } from "./gustafson.ts";
import type { FitOptions, FitResult, GroupFit, SkippedGroup } from "./model.ts";
import { METRICS, type Metric, type Summary, type SummaryRow } from "./summary.ts";

/** The options as a user gives them: anything left out takes its default. */
export interface FitRequest {
  metric?: Metric;
  by?: string[];
  bootstrap?: number;
  seed?: number;
  /** `runs` (default): the CI on s resamples repeats, none without them; `residual`: residuals where a group has no repeats. */
  ci?: CiMode;
  /** Leave out experiments the saturation guard flagged (summary `client_limited`). */
  excludeClientLimited?: boolean;
}

export const DEFAULT_METRIC: Metric = "output_tokens_per_s";
export const DEFAULT_BOOTSTRAP = 1000;
export const DEFAULT_SEED = 1;

/** The checks that need no summary: made before any file is read. */
export function checkFitRequest(request: FitRequest): {
  metric: Metric;
  bootstrap: number;
  ci: CiMode;
} {
  const metric = request.metric ?? DEFAULT_METRIC;
  if (!METRICS.includes(metric))
    throw new ConfigError(`unknown metric "${metric}"`, {
      field: "--metric",
      hint: `expected one of ${METRICS.join(", ")}`,
    });
  const bootstrap = request.bootstrap ?? DEFAULT_BOOTSTRAP;
  if (!Number.isInteger(bootstrap) || bootstrap < 0)
    throw new ConfigError("expected a whole number of bootstrap replicates ≥ 0", {
      field: "--bootstrap",
    });
  const ci = request.ci ?? "runs";
  if (!CI_MODES.includes(ci))
    throw new ConfigError(`unknown CI method "${ci}"`, {
      field: "--ci",
      hint: `expected one of ${CI_MODES.join(", ")}`,
    });
  return { metric, bootstrap, ci };
}

/** The options a fit of this summary will use, checked (bad ones are ConfigErrors: exit 2). */
export function resolveFitOptions(summary: Summary, request: FitRequest): FitOptions {
  const { metric, bootstrap, ci } = checkFitRequest(request);
  if (!summary.columns.includes(metric))
    throw new ConfigError(`the summary has no column "${metric}"`, {
      file: summary.file,
      field: "--metric",
      hint: `columns present: ${METRICS.filter((m) => summary.columns.includes(m)).join(", ") || "none of the metrics"}`,
    });
  const by =
    request.by && request.by.length > 0 ? request.by : defaultGroupColumns(summary.columns);
  checkByColumns(by, summary.columns);
  return {
    metric,
    by,
    bootstrap,
    seed: request.seed ?? DEFAULT_SEED,
    ci,
    excludeClientLimited: request.excludeClientLimited ?? false,
  };
}

const limited = (r: SummaryRow) => r.client_limited === true;
/**
 * No ok request sent in the window ended (`e2e_ms_n` 0): the window measured
 * no request through, so its throughput is no steady state either.
 */
const noLatencySample = (r: SummaryRow) =>
  r.e2e_ms_n !== null && r.e2e_ms_n !== undefined && Number(r.e2e_ms_n) === 0;

const numberOrNull = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;

/**
 * How the group's offered load moved with N, from the load each experiment
 * ran (`load_users` / `load_rate`, `per_gpu` resolved; the `users` / `rate`
 * factor columns in summaries written before them).
 */
function groupScaling(rows: readonly SummaryRow[]): LoadScaling {
  const users = rows.map((r) => numberOrNull(r.load_users ?? r.users));
  if (users.every((u) => u !== null))
    return loadScaling(
      rows.map((r, i) => ({ n: r.gpus, load: users[i] as number })),
      true,
    );
  return loadScaling(
    rows.map((r) => ({ n: r.gpus, load: numberOrNull(r.load_rate ?? r.rate) })),
    false,
  );
}

export function computeFits(summary: Summary, request: FitRequest): FitResult {
  const options = resolveFitOptions(summary, request);
  const { metric } = options;
  const ok = summary.rows.filter((r) => r.status === "ok");
  const groups = groupRows(ok, options.by);
  const labels = groupLabels(groups);
  const fitted: GroupFit[] = [];
  const skipped: SkippedGroup[] = [];
  for (const group of groups) {
    const sorted = [...group.rows].sort((a, b) => a.gpus - b.gpus || a.repeat - b.repeat);
    // A client-limited point measures the load client's ceiling, not the server's scaling.
    const marked = sorted.filter(limited).map((r) => r.experiment_id);
    const unusable = sorted.filter(noLatencySample).map((r) => r.experiment_id);
    const rows = sorted.filter(
      (r) => !noLatencySample(r) && !(options.excludeClientLimited && limited(r)),
    );
    const points = rows.map((r) => {
      const value = r[metric];
      return { n: r.gpus, x: typeof value === "number" ? value : Number.NaN };
    });
    const result = fitPoints(points, {
      bootstrap: options.bootstrap,
      seed: hashString(group.id, options.seed),
      ci: options.ci,
      scaling: groupScaling(rows),
    });
    if (!result.ok) {
      const why =
        unusable.length > 0
          ? `${result.reason}; left out for no usable latency sample: ${unusable.join(", ")}`
          : result.reason;
      skipped.push({ group: group.id, key: group.key, reason: why });
      continue;
    }
    const kept = new Set(result.fit.points);
    const notes = [...result.fit.notes];
    if (unusable.length > 0)
      notes.push(
        `left out ${unusable.length} point(s) with no usable latency sample (no ok request sent in the window ended): ${unusable.join(", ")}`,
      );
    if (marked.length > 0)
      notes.push(
        options.excludeClientLimited
          ? `left out ${marked.length} client-limited point(s): ${marked.join(", ")}`
          : `client-limited points (the load client saturated, so they understate the server; --exclude-client-limited leaves them out): ${marked.join(", ")}`,
      );
    fitted.push({
      ...result.fit,
      notes,
      group: group.id,
      label: labels.get(group.id) ?? group.id,
      key: group.key,
      experiments: rows.filter((_, i) => kept.has(points[i] as never)).map((r) => r.experiment_id),
    });
  }
  return { ...options, groups: fitted, skipped, files: [] };
}
