/**
 * Which figures the report has, and the data behind each: per group the
 * scaling charts and latency CDFs; across groups latency vs offered load;
 * when their files exist, step-phase shares and top kernels.
 */
import type { TopLevelSpec } from "vega-lite";
import { STEP_PHASE_SHARES } from "../../formats/profile-tables.ts";
import type { TableRow, TableRows } from "../../formats/read-table.ts";
import { parallelismOf } from "../fit/group.ts";
import type { FitResult, GroupFit } from "../fit/model.ts";
import type { SummaryRow } from "../fit/summary.ts";
import {
  type CdfPoint,
  cdfChart,
  cdfPoints,
  efficiencyChart,
  karpFlattChart,
  kernelChart,
  type LoadPoint,
  latencyVsLoadChart,
  type PhaseShare,
  speedupChart,
  stepPhaseChart,
  throughputChart,
} from "./charts.ts";
import type { ReportInputs } from "./inputs.ts";

export interface Figure {
  /** File stem under figs/: `throughput-1`, `kernels`. */
  name: string;
  section: string;
  spec: TopLevelSpec;
  /** Data points behind the chart: the test checks each chart shows data. */
  points: number;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function groupFigures(
  fit: GroupFit,
  index: number,
  metric: string,
  inputs: ReportInputs,
): Figure[] {
  const section = fit.label;
  const id = index + 1;
  const figures: Figure[] = [
    {
      name: `throughput-${id}`,
      section,
      spec: throughputChart(fit, metric),
      points: fit.points.length,
    },
    { name: `speedup-${id}`, section, spec: speedupChart(fit), points: fit.distinctN.length },
    { name: `efficiency-${id}`, section, spec: efficiencyChart(fit), points: fit.distinctN.length },
    {
      name: `karp-flatt-${id}`,
      section,
      spec: karpFlattChart(fit),
      points: fit.karpFlatt.points.length,
    },
  ];
  const cdf = latencyCdf(fit, inputs.requests);
  if (cdf.length > 0)
    figures.push({ name: `latency-cdf-${id}`, section, spec: cdfChart(cdf), points: cdf.length });
  return figures;
}

/** TTFT and E2E of ok, in-window requests of the group's experiments, per GPU count. */
function latencyCdf(fit: GroupFit, requests: TableRows | null): CdfPoint[] {
  if (!requests) return [];
  const ids = new Set(fit.experiments);
  const byGpus = new Map<number, { ttft: number[]; e2e: number[] }>();
  for (const r of requests.rows) {
    if (!ids.has(String(r.experiment_id))) continue;
    if (r.ok === false || r.in_window === false || r.warmup === true) continue;
    const gpus = num(r.gpus);
    if (gpus === null) continue;
    const entry = byGpus.get(gpus) ?? { ttft: [], e2e: [] };
    const ttft = num(r.ttft_ms);
    const e2e = num(r.e2e_ms);
    if (ttft !== null) entry.ttft.push(ttft);
    if (e2e !== null) entry.e2e.push(e2e);
    byGpus.set(gpus, entry);
  }
  return [...byGpus.entries()]
    .sort((a, b) => a[0] - b[0])
    .flatMap(([gpus, { ttft, e2e }]) => [
      ...cdfPoints("TTFT (ms)", gpus, ttft),
      ...cdfPoints("E2E latency (ms)", gpus, e2e),
    ]);
}

/** The knee: p90 E2E and p99 TTFT against users (closed loop) or rate (open loop). */
function latencyVsLoad(rows: readonly SummaryRow[], columns: readonly string[]): Figure | null {
  const loadColumn = ["rate", "users"].find(
    (c) =>
      columns.includes(c) &&
      new Set(rows.map((r) => r[c]).filter((v) => num(v) !== null)).size >= 2,
  );
  if (!loadColumn) return null;
  const cells = new Map<
    string,
    { load: number; gpus: number; parallelism: string; metric: string; sum: number; count: number }
  >();
  for (const r of rows) {
    const load = num(r[loadColumn]);
    if (load === null) continue;
    for (const [column, metric] of [
      ["e2e_ms_p90", "E2E p90"],
      ["ttft_ms_p99", "TTFT p99"],
    ] as const) {
      const ms = num(r[column]);
      if (ms === null) continue;
      const parallelism = r.gpus === 1 ? "single" : parallelismOf(r);
      const key = `${load}|${r.gpus}|${parallelism}|${metric}`;
      const cell = cells.get(key) ?? { load, gpus: r.gpus, parallelism, metric, sum: 0, count: 0 };
      cell.sum += ms;
      cell.count += 1;
      cells.set(key, cell);
    }
  }
  // Repeats are averaged: one line per GPU count, one point per load level.
  const points: LoadPoint[] = [...cells.values()]
    .map((c) => ({
      load: c.load,
      gpus: c.gpus,
      parallelism: c.parallelism,
      metric: c.metric,
      ms: c.sum / c.count,
    }))
    .sort((a, b) => a.gpus - b.gpus || a.load - b.load);
  if (points.length === 0) return null;
  return {
    name: "latency-vs-load",
    section: "Latency vs offered load",
    spec: latencyVsLoadChart(points, loadColumn),
    points: points.length,
  };
}

const PHASES = Object.entries(STEP_PHASE_SHARES);

/**
 * Seed 000's headline: mean of per-step shares of schedule / execute / update,
 * per run. The shares are aggregation's (step-phases.ts readStepPhases());
 * steps with no time (share null) are left out.
 */
export function stepPhaseShares(table: TableRows): PhaseShare[] {
  const run = (row: TableRow): string => {
    if (row.experiment_id !== null) return `${row.campaign}/${row.experiment_id}`;
    return String(row.source);
  };
  const runs = new Map<string, { sums: number[]; steps: number }>();
  for (const row of table.rows) {
    const shares = PHASES.map(([, c]) => num(row[c]));
    if (shares.some((t) => t === null)) continue;
    const key = run(row);
    const entry = runs.get(key) ?? { sums: [0, 0, 0], steps: 0 };
    (shares as number[]).forEach((t, i) => {
      entry.sums[i] = (entry.sums[i] ?? 0) + t;
    });
    entry.steps += 1;
    runs.set(key, entry);
  }
  return [...runs.entries()].flatMap(([run, { sums, steps }]) =>
    PHASES.map(([phase], i) => ({ run, phase, share: (sums[i] ?? 0) / steps })),
  );
}

function stepPhases(table: TableRows | null): Figure | null {
  if (!table) return null;
  const values = stepPhaseShares(table);
  if (values.length === 0) return null;
  return {
    name: "step-phases",
    section: "Engine step phases",
    spec: stepPhaseChart(values),
    points: values.length,
  };
}

function topKernels(table: TableRows | null, top = 15): Figure | null {
  if (!table) return null;
  const totals = new Map<string, number>();
  for (const row of table.rows) {
    const us = num(row.total_us);
    if (us === null || typeof row.name !== "string") continue;
    totals.set(row.name, (totals.get(row.name) ?? 0) + us);
  }
  const values = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, totalMs: us / 1000 }));
  if (values.length === 0) return null;
  return {
    name: "kernels",
    section: "GPU kernels",
    spec: kernelChart(values),
    points: values.length,
  };
}

export function reportFigures(
  fits: FitResult,
  summary: { rows: SummaryRow[]; columns: string[] },
  inputs: ReportInputs,
): Figure[] {
  const ok = summary.rows.filter((r) => r.status === "ok");
  return [
    ...fits.groups.flatMap((g, i) => groupFigures(g, i, fits.metric, inputs)),
    latencyVsLoad(ok, summary.columns),
    stepPhases(inputs.stepPhases),
    topKernels(inputs.kernels),
  ].filter((f): f is Figure => f !== null);
}
