/**
 * Vega-Lite specs for every report figure. Pure: data in, spec out; rendering
 * is render-svg.ts. Each chart carries its data inline so the SVG is final.
 */
import type { TopLevelSpec } from "vega-lite";
import { amdahlThroughput } from "../fit/amdahl.ts";
import type { GroupFit } from "../fit/model.ts";
import { meansByN } from "../fit/points.ts";
import { uslThroughput } from "../fit/usl.ts";

const WIDTH = 420;
const HEIGHT = 260;

/** N from 1 to 2 × the largest measured N, dense enough for smooth curves. */
function curveGrid(fit: GroupFit): number[] {
  const top = fit.amdahl.predictAtN;
  return Array.from({ length: 81 }, (_, i) => 1 + ((top - 1) * i) / 80);
}

function baselineX1(fit: GroupFit): number {
  const one = meansByN(fit.points).find((m) => m.n === 1);
  return one ? one.x : fit.amdahl.x1;
}

export function throughputChart(fit: GroupFit, metric: string): TopLevelSpec {
  const grid = curveGrid(fit);
  const { x1, s, ci } = fit.amdahl;
  const curves = grid.flatMap((n) => [
    { n, x: amdahlThroughput({ x1, s }, n), series: "Amdahl fit" },
    { n, x: uslThroughput(fit.usl, n), series: "USL fit" },
  ]);
  const band = ci
    ? grid.map((n) => ({
        n,
        // Larger s means lower throughput: the band's top is the CI's low end.
        lo: amdahlThroughput({ x1, s: ci.high }, n),
        hi: amdahlThroughput({ x1, s: ci.low }, n),
      }))
    : [];
  const points = fit.points.map((p) => ({ n: p.n, x: p.x, series: "measured" }));
  const x = { field: "n", type: "quantitative", title: "GPUs (N)" } as const;
  return {
    width: WIDTH,
    height: HEIGHT,
    title: `${metric} vs GPUs`,
    layer: [
      ...(band.length > 0
        ? [
            {
              data: { values: band },
              mark: { type: "area", opacity: 0.25, color: "#4c78a8" },
              encoding: {
                x,
                y: { field: "lo", type: "quantitative" },
                y2: { field: "hi" },
              },
            } as const,
          ]
        : []),
      {
        data: { values: curves },
        mark: { type: "line" },
        encoding: {
          x,
          y: { field: "x", type: "quantitative", title: metric },
          color: { field: "series", type: "nominal", title: null },
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x,
          y: { field: "x", type: "quantitative" },
          color: { field: "series", type: "nominal", title: null },
        },
      },
    ],
  } as TopLevelSpec;
}

export function speedupChart(fit: GroupFit): TopLevelSpec {
  const base = baselineX1(fit);
  const grid = curveGrid(fit);
  const lines = grid.flatMap((n) => [
    { n, speedup: n, series: "ideal (S = N)" },
    { n, speedup: amdahlThroughput({ x1: 1, s: fit.amdahl.s }, n), series: "Amdahl" },
  ]);
  const measured = meansByN(fit.points).map((m) => ({
    n: m.n,
    speedup: m.x / base,
    series: "measured",
  }));
  const x = { field: "n", type: "quantitative", title: "GPUs (N)" } as const;
  return {
    width: WIDTH,
    height: HEIGHT,
    title: "Speedup vs ideal",
    layer: [
      {
        data: { values: lines },
        mark: "line",
        encoding: {
          x,
          y: { field: "speedup", type: "quantitative", title: "speedup S(N)" },
          color: { field: "series", type: "nominal", title: null },
        },
      },
      {
        data: { values: measured },
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x,
          y: { field: "speedup", type: "quantitative" },
          color: { field: "series", type: "nominal" },
        },
      },
    ],
  } as TopLevelSpec;
}

export function efficiencyChart(fit: GroupFit): TopLevelSpec {
  const base = baselineX1(fit);
  const values = meansByN(fit.points).map((m) => ({
    n: String(m.n),
    efficiency: m.x / base / m.n,
  }));
  return {
    width: WIDTH,
    height: HEIGHT,
    title: "Parallel efficiency S(N)/N",
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x: { field: "n", type: "ordinal", title: "GPUs (N)", sort: null },
          y: {
            field: "efficiency",
            type: "quantitative",
            title: "efficiency",
            scale: { domainMin: 0 },
          },
        },
      },
      { mark: { type: "rule", color: "gray", strokeDash: [4, 4] }, encoding: { y: { datum: 1 } } },
    ],
  } as TopLevelSpec;
}

export function karpFlattChart(fit: GroupFit): TopLevelSpec {
  const values = fit.karpFlatt.points.map((p) => ({ n: p.n, e: p.e }));
  return {
    width: WIDTH,
    height: HEIGHT,
    title: `Karp–Flatt serial fraction e(N): ${fit.karpFlatt.trend}`,
    layer: [
      {
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "n", type: "quantitative", title: "GPUs (N)" },
          y: { field: "e", type: "quantitative", title: "e(N)" },
        },
      },
      {
        data: { values: [{ s: fit.amdahl.s }] },
        mark: { type: "rule", color: "gray", strokeDash: [4, 4] },
        encoding: { y: { field: "s", type: "quantitative" } },
      },
    ],
  } as TopLevelSpec;
}

export interface CdfPoint {
  metric: string;
  gpus: number;
  ms: number;
  p: number;
}

/** Empirical CDF thinned to at most `max` points per curve (the shape, not every request). */
export function cdfPoints(metric: string, gpus: number, values: number[], max = 200): CdfPoint[] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(sorted.length / max));
  const out: CdfPoint[] = [];
  for (let i = 0; i < sorted.length; i += step)
    out.push({ metric, gpus, ms: sorted[i] as number, p: (i + 1) / sorted.length });
  const last = sorted[sorted.length - 1];
  if (last !== undefined) out.push({ metric, gpus, ms: last, p: 1 });
  return out;
}

export function cdfChart(points: CdfPoint[]): TopLevelSpec {
  return {
    title: "Latency CDFs per GPU count",
    data: { values: points },
    facet: { column: { field: "metric", type: "nominal", title: null } },
    resolve: { scale: { x: "independent" } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: "line", interpolate: "step-after" },
      encoding: {
        x: { field: "ms", type: "quantitative", title: "ms" },
        y: { field: "p", type: "quantitative", title: "fraction of requests" },
        color: { field: "gpus", type: "nominal", title: "GPUs" },
      },
    },
  } as TopLevelSpec;
}

export interface LoadPoint {
  load: number;
  gpus: number;
  parallelism: string;
  metric: string;
  ms: number;
}

export function latencyVsLoadChart(points: LoadPoint[], loadTitle: string): TopLevelSpec {
  return {
    title: `Latency vs offered load (${loadTitle}) per GPU count`,
    data: { values: points },
    facet: { column: { field: "metric", type: "nominal", title: null } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "load", type: "quantitative", title: loadTitle },
        y: { field: "ms", type: "quantitative", title: "ms" },
        color: { field: "gpus", type: "nominal", title: "GPUs" },
        strokeDash: { field: "parallelism", type: "nominal" },
        detail: { field: "parallelism" },
      },
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
