/**
 * Vega-Lite specs for every report figure. Pure: chart data in (chart-data.ts
 * builds it from the summary and the fits), spec out; rendering is
 * render-svg.ts. Each chart carries its data inline so the SVG is final.
 *
 * Shared conventions: titles and axis titles in words with units; the GPU
 * axis is log₂ with ticks only at the measured GPU counts; points carry their
 * sample size in the legend or tooltip, and their flags as the point's shape.
 */
import type { TopLevelSpec } from "vega-lite";
import type { KarpFlattSummary } from "../fit/model.ts";
import {
  type CdfData,
  FLAG,
  type LoadData,
  type ScalingData,
  type ScalingRun,
} from "./chart-data.ts";

const WIDTH = 300;
const HEIGHT = 220;
const LEGEND = { labelLimit: 260, titleLimit: 260 } as const;

const METRIC_TITLES: Record<string, string> = {
  output_tokens_per_s: "Output throughput (tokens/s)",
  requests_per_s: "Request throughput (requests/s)",
  total_tokens_per_s: "Total throughput (prompt + output tokens/s)",
  capacity_rps: "Capacity at the SLO (requests/s)",
};

export function metricTitle(metric: string): string {
  return METRIC_TITLES[metric] ?? metric;
}

/** Flag → point shape; a point with several flags is a diamond. */
const FLAG_SHAPES: Record<string, string> = {
  [FLAG.none]: "circle",
  [FLAG.superlinear]: "triangle-up",
  [FLAG.clientLimited]: "square",
  [FLAG.fewSamples]: "cross",
  [FLAG.censored]: "cross",
  [FLAG.noValue]: "cross",
};

function shapeEncoding(flags: readonly string[]) {
  const domain = [...new Set(flags)].sort(
    (a, b) => Number(a !== FLAG.none) - Number(b !== FLAG.none) || a.localeCompare(b),
  );
  return {
    field: "flag",
    type: "nominal",
    title: "flag",
    scale: { domain, range: domain.map((f) => FLAG_SHAPES[f] ?? "diamond") },
    legend: LEGEND,
  } as const;
}

/** Powers of two from 1 up to `top`: log₂-axis ticks where the data has none of its own. */
function powersOfTwo(top: number): number[] {
  const out: number[] = [];
  for (let v = 1; v <= top * 1.0001; v *= 2) out.push(v);
  return out;
}

/** log₂ GPU axis, ticks only at the GPU counts that were measured. */
function gpuX(measuredN: readonly number[], topN: number) {
  return {
    field: "n",
    type: "quantitative",
    title: "GPUs (N, log₂ scale)",
    scale: { type: "log", base: 2, domain: [Math.min(1, ...measuredN), topN], nice: false },
    axis: { values: [...measuredN], format: "d", grid: true },
  } as const;
}

const RANGE_DASH = { measured: [1, 0], extrapolated: [6, 4] } as const;

function rangeDash(data: ScalingData) {
  const labels = {
    measured: "within the measured N",
    extrapolated: `extrapolated (N > ${data.maxN})`,
  };
  const present = [...new Set(data.curve.map((c) => c.range))];
  return {
    field: "rangeLabel",
    type: "nominal",
    title: "curve",
    scale: {
      domain: present.map((r) => labels[r]),
      range: present.map((r) => RANGE_DASH[r]),
    },
    legend: LEGEND,
  } as const;
}

function curveValues(data: ScalingData) {
  return data.curve.map((c) => ({
    ...c,
    rangeLabel:
      c.range === "measured" ? "within the measured N" : `extrapolated (N > ${data.maxN})`,
  }));
}

function runsLabel(runs: readonly ScalingRun[]): string {
  const perN = new Map<number, number>();
  for (const r of runs) perN.set(r.n, (perN.get(r.n) ?? 0) + 1);
  const counts = [...new Set(perN.values())];
  const each =
    counts.length === 1
      ? `${counts[0]} per N`
      : `${Math.min(...counts)}–${Math.max(...counts)} per N`;
  return `measured runs (n = ${runs.length}, ${each})`;
}

/** The band and the extrapolation, said under the title. */
function subtitle(data: ScalingData): string[] {
  const lines = data.band
    ? `Band: ${data.band}.`.split("\n")
    : [`No band: ${data.noBand ?? "the fit has no CI for s"}.`];
  if (data.topN > data.maxN)
    lines.push(
      `Dashed: extrapolated past N = ${data.maxN}; no prediction interval for a run there.`,
    );
  return lines;
}

const SERIES = {
  amdahl: "Amdahl fit",
  usl: "USL fit (measured N only)",
  ideal: "ideal (S = N)",
} as const;

const COLOURS: Record<string, string> = {
  [SERIES.amdahl]: "#4c78a8",
  [SERIES.usl]: "#f58518",
  [SERIES.ideal]: "#888888",
};

function colourScale(domain: readonly string[]) {
  return {
    domain: [...domain],
    range: domain.map((d) => COLOURS[d] ?? "#222222"),
  };
}

function runTooltip(y: string, title: string) {
  return [
    { field: "n", type: "quantitative", title: "GPUs" },
    { field: y, type: "quantitative", title, format: ".4~g" },
    { field: "experiment", type: "nominal", title: "experiment" },
    { field: "requests", type: "quantitative", title: "requests in window (n)" },
    { field: "flag", type: "nominal", title: "flag" },
  ];
}

/**
 * One scaling chart: a band (y lo/hi), the Amdahl curve (solid over the
 * measured N, dashed beyond), optional extra curves, and the runs as points.
 */
function scalingChart(
  data: ScalingData,
  opts: {
    title: string;
    y: {
      curve: "amdahl" | "speedup" | "efficiency";
      lo: string;
      hi: string;
      run: "x" | "speedup" | "efficiency";
      title: string;
      scale?: object;
      axis?: object;
    };
    extra?: object[];
    extraSeries?: string[];
  },
): TopLevelSpec {
  const x = gpuX(data.measuredN, data.topN);
  const runs = runsLabel(data.runs);
  const domain = [SERIES.amdahl, ...(opts.extraSeries ?? []), runs];
  const colour = { scale: colourScale(domain), title: null, legend: LEGEND };
  const curve = curveValues(data);
  const yScale = opts.y.scale ?? { zero: false };
  const band = curve.filter((c) => c.lo !== null);
  return {
    width: WIDTH,
    height: HEIGHT,
    title: { text: opts.title, subtitle: subtitle(data), anchor: "start" },
    layer: [
      ...(band.length > 0
        ? [
            {
              data: { values: band },
              mark: { type: "area", opacity: 0.18, color: COLOURS[SERIES.amdahl] },
              encoding: {
                x,
                y: { field: opts.y.lo, type: "quantitative", scale: yScale },
                y2: { field: opts.y.hi },
                detail: { field: "range" },
              },
            },
          ]
        : []),
      ...(opts.extra ?? []),
      {
        data: { values: curve },
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          x,
          y: {
            field: opts.y.curve,
            type: "quantitative",
            title: opts.y.title,
            scale: yScale,
            axis: opts.y.axis,
          },
          color: { datum: SERIES.amdahl, ...colour },
          strokeDash: rangeDash(data),
          detail: { field: "range" },
        },
      },
      {
        data: { values: data.runs },
        mark: { type: "point", filled: true, size: 70, opacity: 0.9 },
        encoding: {
          x,
          y: { field: opts.y.run, type: "quantitative" },
          color: { datum: runs, ...colour },
          shape: shapeEncoding(data.runs.map((r) => r.flag)),
          tooltip: runTooltip(opts.y.run, opts.y.title),
        },
      },
    ],
  } as TopLevelSpec;
}

export function throughputChart(data: ScalingData): TopLevelSpec {
  const title = metricTitle(data.metric);
  const usl = curveValues(data).filter((c) => c.usl !== null);
  return scalingChart(data, {
    title: `${title.replace(/ \(.*\)$/, "")} vs GPUs`,
    y: { curve: "amdahl", lo: "lo", hi: "hi", run: "x", title },
    // No USL entry in the legend where the fit did not prefer it (chart-data.ts draws none).
    extraSeries: usl.length > 0 ? [SERIES.usl] : [],
    extra:
      usl.length > 0
        ? [
            {
              data: { values: usl },
              mark: { type: "line", strokeWidth: 1.5 },
              encoding: {
                x: gpuX(data.measuredN, data.topN),
                y: { field: "usl", type: "quantitative" },
                color: { datum: SERIES.usl },
              },
            },
          ]
        : [],
  });
}

export function speedupChart(data: ScalingData): TopLevelSpec {
  const ticks = powersOfTwo(data.topN);
  return scalingChart(data, {
    title: "Speedup vs ideal",
    y: {
      curve: "speedup",
      lo: "speedupLo",
      hi: "speedupHi",
      run: "speedup",
      title: "speedup X(N) / X₁ (log₂)",
      scale: {
        type: "log",
        base: 2,
        domain: [Math.min(1, ...data.runs.map((r) => r.speedup)) * 0.9, data.topN],
      },
      axis: { values: ticks, format: "~g" },
    },
    extraSeries: [SERIES.ideal],
    extra: [
      {
        data: {
          values: [
            { n: 1, speedup: 1 },
            { n: data.topN, speedup: data.topN },
          ],
        },
        mark: { type: "line", strokeDash: [2, 3], strokeWidth: 1.5 },
        encoding: {
          x: gpuX(data.measuredN, data.topN),
          y: { field: "speedup", type: "quantitative" },
          color: { datum: SERIES.ideal },
        },
      },
    ],
  });
}

export function efficiencyChart(data: ScalingData): TopLevelSpec {
  const top = Math.max(1.1, ...data.runs.map((r) => r.efficiency)) * 1.05;
  return scalingChart(data, {
    title: "Parallel efficiency S(N)/N",
    y: {
      curve: "efficiency",
      lo: "efficiencyLo",
      hi: "efficiencyHi",
      run: "efficiency",
      title: "efficiency X(N) / (N·X₁)",
      scale: { domain: [0, top], nice: false },
      axis: { format: ".0%" },
    },
    extra: [
      {
        data: { values: [{ e: 1 }] },
        mark: { type: "rule", color: "#888888", strokeDash: [2, 3] },
        encoding: { y: { field: "e", type: "quantitative" } },
      },
    ],
  });
}

export function karpFlattChart(
  kf: KarpFlattSummary,
  s: number,
  measuredN: readonly number[],
): TopLevelSpec {
  // e(N) < 0 is the same event as efficiency > 1 against the same baseline.
  const values = kf.points.map((p) => ({
    n: p.n,
    e: p.e,
    flag: p.e < 0 ? FLAG.superlinear : FLAG.none,
  }));
  const top = measuredN[measuredN.length - 1] ?? 2;
  const x = gpuX(measuredN, top);
  const baseline = kf.baseline === "measured" ? "measured X(1)" : "fitted X₁ (N = 1 not run)";
  const series = ["e(N)", `fitted s = ${s.toFixed(3)}`];
  const colour = {
    scale: { domain: series, range: ["#4c78a8", "#888888"] },
    title: null,
    legend: LEGEND,
  };
  return {
    width: WIDTH,
    height: HEIGHT,
    title: {
      text: `Karp–Flatt serial fraction e(N): ${kf.trend}`,
      subtitle: [`From the mean throughput at each N against ${baseline}.`],
      anchor: "start",
    },
    layer: [
      {
        data: { values },
        mark: { type: "line" },
        encoding: {
          x,
          y: { field: "e", type: "quantitative", title: "serial fraction e(N)" },
          color: { datum: series[0], ...colour },
        },
      },
      {
        data: { values },
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x,
          y: { field: "e", type: "quantitative" },
          color: { datum: series[0], ...colour },
          shape: shapeEncoding(values.map((v) => v.flag)),
          tooltip: [
            { field: "n", type: "quantitative", title: "GPUs" },
            { field: "e", type: "quantitative", title: "e(N)", format: ".4f" },
            { field: "flag", type: "nominal", title: "flag" },
          ],
        },
      },
      {
        data: { values: [{ s }] },
        mark: { type: "rule", strokeDash: [4, 4] },
        encoding: {
          y: { field: "s", type: "quantitative" },
          color: { datum: series[1], ...colour },
        },
      },
    ],
  } as TopLevelSpec;
}

export function cdfChart(data: CdfData): TopLevelSpec {
  return {
    title: {
      text: "Latency CDFs per GPU count",
      subtitle: ["Requests of every run at that GPU count; n in the legend."],
      anchor: "start",
    },
    data: { values: data.points },
    facet: {
      column: {
        field: "metric",
        type: "nominal",
        title: null,
        sort: ["TTFT (ms)", "E2E latency (ms)"],
      },
    },
    resolve: { scale: { x: "independent" } },
    spec: {
      width: 280,
      height: 200,
      mark: { type: "line", interpolate: "step-after" },
      encoding: {
        x: { field: "ms", type: "quantitative", title: "latency (ms)" },
        y: {
          field: "p",
          type: "quantitative",
          title: "fraction of requests",
          axis: { format: ".0%" },
        },
        color: {
          field: "series",
          type: "nominal",
          title: "GPUs",
          scale: { domain: data.series },
          legend: LEGEND,
        },
      },
    },
  } as TopLevelSpec;
}

export function latencyVsLoadChart(data: LoadData): TopLevelSpec {
  const height = 180;
  const missing =
    data.missing > 0
      ? [
          `Crosses at a panel's foot: ${data.missing} figure(s) the summary has as null (flag says why).`,
        ]
      : [];
  const x = { field: "load", type: "quantitative", title: data.loadTitle, scale: { zero: false } };
  const colour = {
    field: "series",
    type: "nominal",
    title: "GPUs",
    scale: { domain: data.series },
    legend: LEGEND,
  } as const;
  const shape = shapeEncoding(data.points.map((p) => p.flag));
  const tooltip = [
    { field: "experiment", type: "nominal", title: "experiment" },
    { field: "load", type: "quantitative", title: data.loadTitle },
    { field: "ms", type: "quantitative", title: "ms", format: ".1f" },
    { field: "n", type: "quantitative", title: "n" },
    { field: "flag", type: "nominal", title: "flag" },
    { field: "flagText", type: "nominal", title: "why" },
  ];
  const drawn = { filter: "datum.ms !== null" };
  return {
    title: {
      text: `Latency vs ${data.loadTitle.replace(/ \(.*\)$/, "")}`,
      subtitle: [
        "One panel per workload, one line per GPU count and run: percentiles are never averaged.",
        ...missing,
      ],
      anchor: "start",
    },
    data: { values: data.points },
    facet: {
      row: {
        field: "metric",
        type: "nominal",
        title: null,
        header: { labelAngle: 0, labelAlign: "left", labelOrient: "top" },
      },
      column: { field: "panel", type: "nominal", title: null, sort: data.panels },
    },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 260,
      height,
      layer: [
        {
          transform: [drawn],
          mark: { type: "line", strokeWidth: 1.5 },
          encoding: {
            x,
            y: { field: "ms", type: "quantitative", title: "ms", scale: { zero: false } },
            color: colour,
            detail: { field: "line" },
          },
        },
        {
          transform: [drawn],
          mark: { type: "point", filled: true, size: 50 },
          encoding: {
            x,
            y: { field: "ms", type: "quantitative" },
            color: colour,
            shape,
            tooltip,
          },
        },
        {
          transform: [{ filter: "datum.ms === null" }],
          mark: { type: "point", filled: true, size: 70 },
          encoding: { x, y: { value: height - 4 }, color: colour, shape, tooltip },
        },
      ],
    },
  } as TopLevelSpec;
}

export interface PhaseShare {
  run: string;
  phase: string;
  share: number;
}

export function stepPhaseChart(values: PhaseShare[]): TopLevelSpec {
  return {
    width: WIDTH,
    height: HEIGHT,
    title: "Engine step time by phase (mean of per-step shares)",
    data: { values },
    mark: "bar",
    encoding: {
      x: { field: "run", type: "nominal", title: null, sort: null },
      y: {
        field: "share",
        type: "quantitative",
        title: "share of step time",
        axis: { format: "%" },
      },
      color: { field: "phase", type: "nominal" },
    },
  } as TopLevelSpec;
}

export interface KernelRow {
  name: string;
  totalMs: number;
}

export function kernelChart(values: KernelRow[]): TopLevelSpec {
  return {
    width: WIDTH,
    height: Math.max(120, values.length * 18),
    title: "Top GPU kernels by total time",
    data: {
      values: values.map((v) => ({
        ...v,
        label: v.name.length > 60 ? `${v.name.slice(0, 57)}…` : v.name,
      })),
    },
    mark: "bar",
    encoding: {
      y: { field: "label", type: "nominal", title: null, sort: "-x" },
      x: { field: "totalMs", type: "quantitative", title: "total time (ms)" },
    },
  } as TopLevelSpec;
}
