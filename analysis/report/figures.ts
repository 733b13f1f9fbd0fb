/**
 * Which figures the report has, and the data behind each: per group the
 * scaling charts and latency CDFs; across groups latency vs offered load;
 * when their files exist, step-phase shares and top kernels.
 */
import type { TopLevelSpec } from "vega-lite";
import { STEP_PHASE_SHARES } from "../../formats/profile-tables.ts";
import type { TableRow, TableRows } from "../../formats/read-table.ts";
import type { FitResult, GroupFit } from "../fit/model.ts";
import type { SummaryRow } from "../fit/summary.ts";
import { latencyCdfData, latencyVsLoadData, runKey, scalingData } from "./chart-data.ts";
import {
  cdfChart,
  efficiencyChart,
  karpFlattChart,
  kernelChart,
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
  rows: readonly SummaryRow[],
  inputs: ReportInputs,
): Figure[] {
  const section = fit.label;
  const id = index + 1;
  const data = scalingData(fit, metric, rows);
  const figures: Figure[] = [
    { name: `throughput-${id}`, section, spec: throughputChart(data), points: data.runs.length },
    { name: `speedup-${id}`, section, spec: speedupChart(data), points: data.runs.length },
    { name: `efficiency-${id}`, section, spec: efficiencyChart(data), points: data.runs.length },
    {
      name: `karp-flatt-${id}`,
      section,
      spec: karpFlattChart(fit.karpFlatt, fit.amdahl.s, fit.distinctN),
      points: fit.karpFlatt.points.length,
    },
  ];
  const windows = new Map(
    inputs.experiments.map((m) => [runKey(m.campaign, m.experimentId), m.window]),
  );
  const cdf = latencyCdfData(fit, inputs.requests, windows);
  if (cdf)
    figures.push({
      name: `latency-cdf-${id}`,
      section,
      spec: cdfChart(cdf),
      points: cdf.points.length,
    });
  return figures;
}

/** The knee: p90 E2E and p99 TTFT against users (closed loop) or rate (open loop). */
function latencyVsLoad(rows: readonly SummaryRow[], columns: readonly string[]): Figure | null {
  const data = latencyVsLoadData(rows, columns);
  if (!data) return null;
  return {
    name: "latency-vs-load",
    section: "Latency vs offered load",
    spec: latencyVsLoadChart(data),
    points: data.points.length,
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
    ...fits.groups.flatMap((g, i) => groupFigures(g, i, fits.metric, summary.rows, inputs)),
    latencyVsLoad(ok, summary.columns),
    stepPhases(inputs.stepPhases),
    topKernels(inputs.kernels),
  ].filter((f): f is Figure => f !== null);
}
