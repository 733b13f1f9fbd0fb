/**
 * The capacity chart: each objective's latency percentile against offered
 * rate, one line per GPU count, the SLO limit as a horizontal rule and each
 * GPU count's capacity (analysis/capacity/, the same numbers as capacity.csv)
 * marked on its line: where the curve crosses the SLO, the knee.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Slo } from "../capacity/capacity.ts";
import type { CapacityRow } from "../capacity/table.ts";
import type { SummaryRow } from "../fit/summary.ts";

export interface CapacityFigure {
  name: string;
  section: string;
  spec: TopLevelSpec;
  points: number;
}

export function capacityFigures(
  rows: readonly SummaryRow[],
  capacity: readonly CapacityRow[],
  slo: Slo,
): CapacityFigure[] {
  const open = rows.filter(
    (r) => r.status === "ok" && r.mode === "open" && typeof r.rate === "number",
  );
  return Object.entries(slo).flatMap(([key, limit], i) => {
    const cells = new Map<string, { rate: number; gpus: number; sum: number; n: number }>();
    for (const r of open) {
      const v = r[key];
      if (typeof v !== "number" || !Number.isFinite(v)) continue;
      const id = `${r.gpus}|${r.rate}`;
      const c = cells.get(id) ?? { rate: r.rate as number, gpus: r.gpus, sum: 0, n: 0 };
      c.sum += v;
      c.n += 1;
      cells.set(id, c);
    }
    // Repeats averaged: one point per GPU count and rate.
    const values = [...cells.values()]
      .map((c) => ({ rate: c.rate, gpus: c.gpus, ms: c.sum / c.n }))
      .sort((a, b) => a.gpus - b.gpus || a.rate - b.rate);
    if (values.length === 0) return [];
    // Only an interpolated capacity is a crossing of the SLO: a bound is no point on the rule.
    const knees = capacity
      .filter((c) => c.result.capacity !== null && c.result.bound === null)
      .map((c) => ({ rate: c.result.capacity as number, gpus: c.gpus, ms: limit }));
    const spec = {
      title: `${key} against offered rate per GPU count; SLO ${limit} ms, interpolated capacity marked`,
      width: 420,
      height: 260,
      layer: [
        {
          data: { values },
          mark: { type: "line", point: true },
          encoding: {
            x: { field: "rate", type: "quantitative", title: "offered rate (req/s)" },
            y: { field: "ms", type: "quantitative", title: `${key} (ms)` },
            color: { field: "gpus", type: "nominal", title: "GPUs" },
          },
        },
        {
          data: { values: [{ ms: limit }] },
          mark: { type: "rule", strokeDash: [6, 4], color: "#c00" },
          encoding: { y: { field: "ms", type: "quantitative" } },
        },
        {
          data: { values: knees },
          mark: { type: "point", shape: "diamond", size: 120, filled: true },
          encoding: {
            x: { field: "rate", type: "quantitative" },
            y: { field: "ms", type: "quantitative" },
            color: { field: "gpus", type: "nominal" },
          },
        },
      ],
    } as TopLevelSpec;
    return [
      { name: `capacity-${i + 1}`, section: "Capacity at the SLO", spec, points: values.length },
    ];
  });
}
