/**
 * The capacity chart: each objective's latency percentile against offered
 * rate, a panel per capacity group (the workload), a line per GPU count and
 * run, the SLO limit as a horizontal rule and each GPU count's capacity
 * (analysis/capacity/, the same numbers as capacity.csv) marked on the rule:
 * a diamond where an interpolated curve crosses it, a triangle pointing the
 * way the capacity lies where the sweep only bounds it.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Slo } from "../capacity/capacity.ts";
import { type CapacityRow, capacityGroupColumns } from "../capacity/table.ts";
import { groupLabels, groupRows, parallelismOf } from "../fit/group.ts";
import type { Summary } from "../fit/summary.ts";
import { FLAG, gpuLabel, latencyColumnTitle } from "./chart-data.ts";
import { clientLimited, latencySampleSize } from "./sample-size.ts";

export interface CapacityFigure {
  name: string;
  section: string;
  spec: TopLevelSpec;
  points: number;
}

export interface CapacityPoint {
  panel: string;
  series: string;
  gpus: number;
  repeat: number;
  line: string;
  experiment: string;
  rate: number;
  ms: number;
  n: number | null;
  flag: string;
}

export const CAPACITY_MARKS = {
  interpolated: "capacity (SLO crossing)",
  lower: "capacity ≥ (every rate met the SLO)",
  upper: "capacity < (no rate met the SLO)",
} as const;

export interface CapacityMark {
  panel: string;
  series: string;
  rate: number;
  ms: number;
  kind: string;
}

export interface CapacityChartData {
  column: string;
  limit: number;
  panels: string[];
  series: string[];
  points: CapacityPoint[];
  marks: CapacityMark[];
}

/** One objective's chart data: every run's own figure, never a mean of percentiles. */
export function capacityChartData(
  summary: Pick<Summary, "rows" | "columns">,
  capacity: readonly CapacityRow[],
  column: string,
  limit: number,
): CapacityChartData | null {
  const open = summary.rows.filter(
    (r) => r.status === "ok" && r.mode === "open" && typeof r.rate === "number",
  );
  const groups = groupRows(open, capacityGroupColumns(summary.columns));
  const labels = groupLabels(groups);
  const points: CapacityPoint[] = [];
  for (const group of groups) {
    const panel = labels.get(group.id) ?? group.id;
    for (const r of group.rows) {
      const ms = r[column];
      if (typeof ms !== "number" || !Number.isFinite(ms)) continue;
      const series = gpuLabel(r.gpus, parallelismOf(r));
      const flags: string[] = [];
      if (clientLimited(r)) flags.push(FLAG.clientLimited);
      points.push({
        panel,
        series,
        gpus: r.gpus,
        repeat: r.repeat,
        line: `${panel} ${series} r${r.repeat}`,
        experiment: r.experiment_id,
        rate: r.rate as number,
        ms,
        n: latencySampleSize(r, column),
        flag: flags.length === 0 ? FLAG.none : flags.join(" + "),
      });
    }
  }
  if (points.length === 0) return null;
  points.sort((a, b) => a.panel.localeCompare(b.panel) || a.gpus - b.gpus || a.rate - b.rate);
  const marks = capacity.flatMap((c): CapacityMark[] => {
    if (c.result.capacity === null) return [];
    const kind =
      c.result.bound === null ? CAPACITY_MARKS.interpolated : CAPACITY_MARKS[c.result.bound];
    const panel = labels.get(c.group) ?? c.group;
    return [
      {
        panel,
        series: gpuLabel(c.gpus, parallelismOf(c)),
        rate: c.result.capacity,
        ms: limit,
        kind,
      },
    ];
  });
  const series = [...new Map(points.map((p) => [p.series, p.gpus])).entries()]
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .map(([s]) => s);
  return {
    column,
    limit,
    panels: [...new Set(points.map((p) => p.panel))],
    series,
    points,
    marks: marks.filter((m) => series.includes(m.series)),
  };
}

const MARK_SHAPES = {
  [CAPACITY_MARKS.interpolated]: "diamond",
  [CAPACITY_MARKS.lower]: "triangle-right",
  [CAPACITY_MARKS.upper]: "triangle-left",
};

export function capacityChart(data: CapacityChartData): TopLevelSpec {
  const title = latencyColumnTitle(data.column);
  const x = { field: "rate", type: "quantitative", title: "offered rate (requests/s)" } as const;
  const colour = {
    field: "series",
    type: "nominal",
    title: "GPUs",
    scale: { domain: data.series },
  } as const;
  const kinds = Object.values(CAPACITY_MARKS).filter((k) => data.marks.some((m) => m.kind === k));
  return {
    title: {
      text: `${title} vs offered rate; SLO ${data.limit} ms`,
      subtitle: [
        "One panel per workload, one line per GPU count and run; capacity marked on the SLO rule.",
      ],
      anchor: "start",
    },
    facet: { column: { field: "panel", type: "nominal", title: null, sort: data.panels } },
    data: {
      values: [
        ...data.points.map((p) => ({ ...p, layer: "run" })),
        ...data.marks.map((m) => ({ ...m, layer: "mark" })),
      ],
    },
    spec: {
      width: 300,
      height: 220,
      layer: [
        {
          transform: [{ filter: "datum.layer === 'run'" }],
          mark: { type: "line", point: { filled: true, size: 40 }, strokeWidth: 1.5 },
          encoding: {
            x,
            y: { field: "ms", type: "quantitative", title: `${title}` },
            color: colour,
            detail: { field: "line" },
            tooltip: [
              { field: "experiment", type: "nominal", title: "experiment" },
              { field: "rate", type: "quantitative", title: "rate (req/s)" },
              { field: "ms", type: "quantitative", title: "ms", format: ".1f" },
              { field: "n", type: "quantitative", title: "n" },
              { field: "flag", type: "nominal", title: "flag" },
            ],
          },
        },
        {
          mark: { type: "rule", strokeDash: [6, 4], color: "#c00" },
          encoding: { y: { datum: data.limit, type: "quantitative" } },
        },
        ...(kinds.length > 0
          ? [
              {
                transform: [{ filter: "datum.layer === 'mark'" }],
                mark: { type: "point", size: 140, filled: true },
                encoding: {
                  x,
                  y: { field: "ms", type: "quantitative" },
                  color: colour,
                  shape: {
                    field: "kind",
                    type: "nominal",
                    title: "capacity",
                    scale: {
                      domain: kinds,
                      range: kinds.map((k) => MARK_SHAPES[k as keyof typeof MARK_SHAPES]),
                    },
                    legend: { labelLimit: 340 },
                  },
                  tooltip: [
                    { field: "series", type: "nominal", title: "GPUs" },
                    { field: "kind", type: "nominal", title: "capacity" },
                    { field: "rate", type: "quantitative", title: "req/s", format: ".2f" },
                  ],
                },
              },
            ]
          : []),
      ],
    },
  } as TopLevelSpec;
}

export function capacityFigures(
  summary: Pick<Summary, "rows" | "columns">,
  capacity: readonly CapacityRow[],
  slo: Slo,
): CapacityFigure[] {
  return Object.entries(slo).flatMap(([column, limit], i) => {
    const data = capacityChartData(summary, capacity, column, limit);
    if (!data) return [];
    return [
      {
        name: `capacity-${i + 1}`,
        section: "Capacity at the SLO",
        spec: capacityChart(data),
        points: data.points.length,
      },
    ];
  });
}
