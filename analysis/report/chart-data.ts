/**
 * The data behind every scaling and latency chart, as pure functions of the
 * result models the CSV/Parquet outputs carry (the summary rows, the fit):
 * a chart draws these rows and computes no figure of its own. Tests check
 * what a chart will show here, on the rows it is given.
 *
 * Rules (docs/statistics.md, Charts):
 * - a percentile is never averaged: each summary row is its own point, in a
 *   panel per workload, a line per GPU count and run;
 * - speedup, efficiency and their curves share one normaliser, the fitted X₁;
 * - every point carries its sample size and its flags.
 */

import type { TableRows } from "../../formats/read-table.ts";
import { sentInWindow, type Window } from "../../stats/request-window.ts";
import { amdahlThroughput } from "../fit/amdahl.ts";
import { defaultGroupColumns, groupLabels, groupRows, parallelismOf } from "../fit/group.ts";
import type { GroupFit } from "../fit/model.ts";
import type { SummaryRow } from "../fit/summary.ts";
import { uslThroughput } from "../fit/usl.ts";
import {
  clientLimited,
  latencyFlagFor,
  latencySampleSize,
  throughputSampleSize,
} from "./sample-size.ts";

export const FLAG = {
  none: "none",
  superlinear: "super-linear (efficiency > 1)",
  clientLimited: "client-limited",
  fewSamples: "null: too few samples",
  censored: "null: requests cut before their end",
  noValue: "null: no requests",
} as const;

/** Why a latency figure the summary has as null is null, from its `latency_flags` phrase. */
function nullFlag(phrase: string | null): string {
  if (phrase === null) return FLAG.noValue;
  return phrase.includes("cut before") ? FLAG.censored : FLAG.fewSamples;
}

/** One legend entry per point: its flags joined, or `none`. */
function flagLabel(flags: readonly string[]): string {
  return flags.length === 0 ? FLAG.none : flags.join(" + ");
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function gpuLabel(gpus: number, parallelism: string): string {
  return gpus === 1 ? "1 GPU" : `${gpus} GPUs ${parallelism}`;
}

/** `1,234` or `980–1,020`: the sample sizes of a series' points. */
function nRange(values: readonly (number | null)[]): string {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return "n unknown";
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  const f = (v: number) => v.toLocaleString("en-US");
  return lo === hi ? `n = ${f(lo)}` : `n = ${f(lo)}–${f(hi)}`;
}

// ---------------------------------------------------------------------------
// Scaling: throughput, speedup, efficiency against N

export interface ScalingRun {
  n: number;
  experiment: string;
  repeat: number | null;
  /** The fitted metric, as the fit took it from the summary. */
  x: number;
  speedup: number;
  efficiency: number;
  /** Completions in the window behind `x`. */
  requests: number | null;
  flag: string;
}

export type CurveRange = "measured" | "extrapolated";

export interface ScalingCurvePoint {
  n: number;
  range: CurveRange;
  amdahl: number;
  speedup: number;
  efficiency: number;
  /** Amdahl at the two ends of s's 95% CI (X₁ held at its fit); null without a CI. */
  lo: number | null;
  hi: number | null;
  speedupLo: number | null;
  speedupHi: number | null;
  efficiencyLo: number | null;
  efficiencyHi: number | null;
  /** USL only over the measured N: its shape beyond them is not something the data shows. */
  usl: number | null;
}

export interface ScalingData {
  metric: string;
  measuredN: number[];
  maxN: number;
  topN: number;
  x1: number;
  runs: ScalingRun[];
  curve: ScalingCurvePoint[];
  /** What the shaded band is, in words (two lines); null when the fit has no CI for s. */
  band: string | null;
  /** Why there is no band (the fit's own reason, e.g. no repeats); null when there is one. */
  noBand: string | null;
}

/** The CI's method in words: which resampling made it, and what it assumes. */
function bandLabel(fit: GroupFit): string | null {
  const ci = fit.amdahl.ci;
  if (!ci) return null;
  const method: string = ci.method;
  const how =
    method === "within-n"
      ? "runs resampled within each N"
      : method === "residual"
        ? "fit residuals resampled, assumes Amdahl"
        : method;
  return `Amdahl at the ends of the 95% CI for s\n(${how}; X₁ fixed)`;
}

/** Log-spaced N from 1 to `top`, with every measured N on the grid (curves pass through them). */
function logGrid(measured: readonly number[], top: number, steps = 64): number[] {
  const grid = new Set<number>(measured);
  for (let i = 0; i <= steps; i++) grid.add(2 ** ((Math.log2(top) * i) / steps));
  return [...grid].filter((n) => n >= 1 && n <= top).sort((a, b) => a - b);
}

function rowIndex(fit: GroupFit, rows: readonly SummaryRow[]): Map<string, SummaryRow> {
  const campaign = typeof fit.key.campaign === "string" ? fit.key.campaign : null;
  return new Map(
    rows
      .filter((r) => campaign === null || r.campaign === campaign)
      .map((r) => [r.experiment_id, r]),
  );
}

export function scalingData(
  fit: GroupFit,
  metric: string,
  rows: readonly SummaryRow[],
): ScalingData {
  const { x1, s, ci } = fit.amdahl;
  const measuredN = fit.distinctN;
  const maxN = measuredN[measuredN.length - 1] ?? 1;
  const topN = Math.max(fit.amdahl.predictAtN, maxN);
  const byId = rowIndex(fit, rows);
  // Speedup and efficiency divide by the fitted X₁, points and curves alike:
  // then a run's distance from the curve is its residual over X₁, and a noisy
  // 1-GPU run does not shift every other point (dividing points by X(1) but
  // the curve by X₁ made a good fit look bad). It also works where N = 1 was
  // not run.
  const runs = fit.points.map((p, i): ScalingRun => {
    const experiment = fit.experiments[i] ?? "";
    const row = byId.get(experiment);
    const speedup = p.x / x1;
    const efficiency = speedup / p.n;
    const flags: string[] = [];
    if (p.n > 1 && efficiency > 1) flags.push(FLAG.superlinear);
    if (row && clientLimited(row)) flags.push(FLAG.clientLimited);
    return {
      n: p.n,
      experiment,
      repeat: row ? row.repeat : null,
      x: p.x,
      speedup,
      efficiency,
      requests: row ? throughputSampleSize(row) : null,
      flag: flagLabel(flags),
    };
  });
  const grid = logGrid(measuredN, topN);
  const at = (n: number, sv: number) => amdahlThroughput({ x1, s: sv }, n);
  const point = (n: number, range: CurveRange): ScalingCurvePoint => {
    const amdahl = at(n, s);
    // Larger s means lower throughput: the band's low edge is the CI's high end.
    const lo = ci ? at(n, ci.high) : null;
    const hi = ci ? at(n, ci.low) : null;
    return {
      n,
      range,
      amdahl,
      speedup: amdahl / x1,
      efficiency: amdahl / x1 / n,
      lo,
      hi,
      speedupLo: lo === null ? null : lo / x1,
      speedupHi: hi === null ? null : hi / x1,
      efficiencyLo: lo === null ? null : lo / x1 / n,
      efficiencyHi: hi === null ? null : hi / x1 / n,
      // USL only where it beat Amdahl (usl-claim.ts): otherwise its curve is a claim the data lacks.
      usl: range === "measured" && fit.usl.shown ? uslThroughput(fit.usl, n) : null,
    };
  };
  // maxN is on both ranges, so the two segments meet.
  const curve = [
    ...grid.filter((n) => n <= maxN).map((n) => point(n, "measured")),
    ...grid.filter((n) => n >= maxN && topN > maxN).map((n) => point(n, "extrapolated")),
  ];
  const band = bandLabel(fit);
  const noBand = band === null ? (fit.amdahl.ciNote ?? "the fit has no CI for s") : null;
  return { metric, measuredN, maxN, topN, x1, runs, curve, band, noBand };
}

// ---------------------------------------------------------------------------
// Latency against offered load

const LATENCY_NAMES: Record<string, string> = {
  ttft_ms: "TTFT",
  tpot_ms: "TPOT",
  itl_ms: "ITL",
  itl_request_mean_ms: "per-request mean ITL",
  e2e_ms: "E2E latency",
};

/** `e2e_ms_p90` → `E2E latency p90 (ms)`; other columns as they are. */
export function latencyColumnTitle(column: string): string {
  const m = /^(.*)_(mean|p\d+)$/.exec(column);
  const name = m ? LATENCY_NAMES[m[1] as string] : undefined;
  return m && name ? `${name} ${m[2]} (ms)` : column;
}

export const LOAD_METRICS = ["e2e_ms_p90", "ttft_ms_p99"].map((column) => ({
  column,
  title: latencyColumnTitle(column),
}));

export interface LoadPoint {
  /** The workload: every factor but the GPU count and the load (groupLabels()). */
  panel: string;
  metric: string;
  load: number;
  gpus: number;
  parallelism: string;
  /** Colour: GPU count and parallelism, with the sample sizes of its points. */
  series: string;
  repeat: number;
  /** One line per series and run: runs are drawn, never averaged. */
  line: string;
  experiment: string;
  /** null: the summary has no figure; drawn as a cross at the panel's foot, its reason in `flagText`. */
  ms: number | null;
  n: number | null;
  flag: string;
  flagText: string | null;
}

export interface LoadData {
  loadColumn: "rate" | "users";
  loadTitle: string;
  panels: string[];
  /** Series in GPU order, for the legend. */
  series: string[];
  points: LoadPoint[];
  /** Figures the summary has as null (too few samples, cut requests, none): crosses, not points. */
  missing: number;
}

const LOAD_TITLES = { rate: "offered rate (requests/s)", users: "concurrent users" } as const;

export function latencyVsLoadData(
  rows: readonly SummaryRow[],
  columns: readonly string[],
): LoadData | null {
  const ok = rows.filter((r) => r.status === "ok");
  const loadColumn = (["rate", "users"] as const).find(
    (c) =>
      columns.includes(c) && new Set(ok.map((r) => r[c]).filter((v) => num(v) !== null)).size >= 2,
  );
  if (!loadColumn) return null;
  const panelColumns = defaultGroupColumns(columns).filter(
    (c) => c !== loadColumn && c !== "sweep_step" && c !== "parallelism",
  );
  const groups = groupRows(ok, panelColumns);
  const labels = groupLabels(groups);
  const draft: Omit<LoadPoint, "series">[] = [];
  const seriesOf = new Map<string, { gpus: number; n: (number | null)[] }>();
  let missing = 0;
  for (const group of groups) {
    const panel = labels.get(group.id) ?? group.id;
    for (const r of group.rows) {
      const load = num(r[loadColumn]);
      if (load === null) continue;
      const parallelism = parallelismOf(r);
      const base = gpuLabel(r.gpus, parallelism);
      for (const { column, title } of LOAD_METRICS) {
        const ms = num(r[column]);
        const flagText = latencyFlagFor(r, column);
        const n = latencySampleSize(r, column);
        const flags: string[] = [];
        if (ms === null) {
          missing++;
          flags.push(nullFlag(flagText));
        }
        if (clientLimited(r)) flags.push(FLAG.clientLimited);
        const entry = seriesOf.get(base) ?? { gpus: r.gpus, n: [] };
        entry.n.push(n);
        seriesOf.set(base, entry);
        draft.push({
          panel,
          metric: title,
          load,
          gpus: r.gpus,
          parallelism,
          repeat: r.repeat,
          line: `${panel} ${base} r${r.repeat}`,
          experiment: r.experiment_id,
          ms,
          n,
          flag: flagLabel(flags),
          flagText,
        });
      }
    }
  }
  if (draft.length === 0) return null;
  const named = new Map(
    [...seriesOf.entries()].map(([base, { n }]) => [base, `${base} (${nRange(n)} per point)`]),
  );
  const points = draft
    .map((p) => ({ ...p, series: named.get(gpuLabel(p.gpus, p.parallelism)) as string }))
    .sort(
      (a, b) =>
        a.panel.localeCompare(b.panel) ||
        a.gpus - b.gpus ||
        a.parallelism.localeCompare(b.parallelism) ||
        a.repeat - b.repeat ||
        a.load - b.load,
    );
  const series = [...seriesOf.entries()]
    .sort((a, b) => a[1].gpus - b[1].gpus || a[0].localeCompare(b[0]))
    .map(([base]) => named.get(base) as string);
  return {
    loadColumn,
    loadTitle: LOAD_TITLES[loadColumn],
    panels: [...new Set(points.map((p) => p.panel))],
    series,
    points,
    missing,
  };
}

// ---------------------------------------------------------------------------
// Latency CDFs

export interface CdfPoint {
  metric: string;
  gpus: number;
  /** Colour: the GPU count with the number of requests in its curve. */
  series: string;
  ms: number;
  p: number;
}

export interface CdfData {
  series: string[];
  points: CdfPoint[];
}

const CDF_METRICS = [
  { field: "ttft_ms", title: "TTFT (ms)" },
  { field: "e2e_ms", title: "E2E latency (ms)" },
] as const;

/** Empirical CDF thinned to at most `max` points per curve (the shape, not every request). */
export function cdfPoints(values: readonly number[], max = 200): { ms: number; p: number }[] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(sorted.length / max));
  const out: { ms: number; p: number }[] = [];
  for (let i = 0; i < sorted.length; i += step)
    out.push({ ms: sorted[i] as number, p: (i + 1) / sorted.length });
  const last = sorted[sorted.length - 1];
  if (last !== undefined) out.push({ ms: last, p: 1 });
  return out;
}

/** Each run's recorded window, by `campaign/experiment_id`. */
export type RunWindows = ReadonlyMap<string, Window | null>;

export function runKey(campaign: unknown, experimentId: unknown): string {
  return `${String(campaign)}/${String(experimentId)}`;
}

/**
 * TTFT and E2E of the group's experiments, per GPU count, from the requests
 * the summary's latency figures read: ok and sent inside the run's window
 * (stats/request-window.ts sentInWindow(), the summary's own rule), so the
 * E2E curve's n is the sum of the runs' `e2e_ms_n`. Experiments of one group
 * and GPU count are repeats of one configuration: their requests share a
 * curve, its n in the legend.
 */
export function latencyCdfData(
  fit: GroupFit,
  requests: TableRows | null,
  windows: RunWindows,
): CdfData | null {
  if (!requests) return null;
  const campaign = typeof fit.key.campaign === "string" ? fit.key.campaign : null;
  const ids = new Set(fit.experiments);
  const byGpus = new Map<number, Record<string, number[]>>();
  for (const r of requests.rows) {
    if (!ids.has(String(r.experiment_id))) continue;
    if (campaign !== null && r.campaign !== campaign) continue;
    if (r.ok !== true) continue;
    const start = num(r.start_us);
    const window = windows.get(runKey(r.campaign, r.experiment_id)) ?? null;
    if (start === null || !sentInWindow({ start_us: start, warmup: r.warmup === true }, window))
      continue;
    const gpus = num(r.gpus);
    if (gpus === null) continue;
    const entry = byGpus.get(gpus) ?? { ttft_ms: [], e2e_ms: [] };
    for (const { field } of CDF_METRICS) {
      const v = num(r[field]);
      if (v !== null) entry[field]?.push(v);
    }
    byGpus.set(gpus, entry);
  }
  const series: string[] = [];
  const points: CdfPoint[] = [];
  for (const [gpus, values] of [...byGpus.entries()].sort((a, b) => a[0] - b[0])) {
    const counts = CDF_METRICS.map(({ field }) => values[field]?.length ?? 0);
    if (counts.every((c) => c === 0)) continue;
    const n =
      counts[0] === counts[1] ? `n = ${counts[0]}` : `n = ${counts[0]} TTFT, ${counts[1]} E2E`;
    const label = `${gpus === 1 ? "1 GPU" : `${gpus} GPUs`} (${n})`;
    series.push(label);
    for (const { field, title } of CDF_METRICS)
      for (const p of cdfPoints(values[field] ?? []))
        points.push({ metric: title, gpus, series: label, ...p });
  }
  return points.length > 0 ? { series, points } : null;
}
