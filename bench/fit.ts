/**
 * Fit throughput on a 1,000-group summary (Amdahl LM + bootstrap B = 200 +
 * USL + Karp–Flatt per group), and the planted-truth recovery table: mean
 * |ŝ − s| and 95% CI coverage over seeded trials, against the planted s and
 * the 95% goal.
 */
import { amdahlThroughput, fitAmdahl } from "../analysis/fit/amdahl.ts";
import { bootstrapS } from "../analysis/fit/bootstrap.ts";
import { fitPoints } from "../analysis/fit/fit-group.ts";
import type { ScalingPoint } from "../analysis/fit/points.ts";
import { createRng } from "../stats/rng.ts";
import { type BenchRow, printBenchRows } from "./report.ts";

function planted(s: number, rng: ReturnType<typeof createRng>, noise: number): ScalingPoint[] {
  const points: ScalingPoint[] = [];
  for (const n of [1, 2, 4, 8])
    for (let r = 0; r < 3; r++)
      points.push({ n, x: amdahlThroughput({ x1: 500, s }, n) * (1 + noise * rng.normal()) });
  return points;
}

const rows: BenchRow[] = [];
const rng = createRng(2024);
const groups = Array.from({ length: 1000 }, (_, i) =>
  planted([0, 0.02, 0.1, 0.3][i % 4] as number, rng, 0.03),
);
const started = performance.now();
for (const [i, points] of groups.entries()) fitPoints(points, { bootstrap: 200, seed: i });
const seconds = (performance.now() - started) / 1000;
rows.push({
  name: "fit: groups/s (LM + bootstrap B=200 + USL + Karp–Flatt)",
  figure: groups.length / seconds,
  unit: "groups/s",
  peer: null,
  note: "1,000 groups of 12 points",
});
const single = performance.now();
for (const points of groups) fitAmdahl(points);
rows.push({
  name: "fit: Amdahl LM fits/s",
  figure: groups.length / ((performance.now() - single) / 1000),
  unit: "fits/s",
  peer: null,
});

for (const s of [0, 0.02, 0.1, 0.3]) {
  const trials = 200;
  let err = 0;
  let covered = 0;
  const trialRng = createRng(77 + s * 1000);
  for (let t = 0; t < trials; t++) {
    const points = planted(s, trialRng, 0.02 + 0.03 * trialRng.next());
    const fit = fitAmdahl(points);
    err += Math.abs(fit.s - s);
    const ci = bootstrapS(points, fit, { replicates: 200, seed: t });
    if (ci.ok && ci.interval.low <= s && s <= ci.interval.high) covered++;
  }
  rows.push({
    name: `fit: mean |ŝ − s|, s=${s}`,
    figure: err / trials,
    unit: "abs error",
    peer: null,
    note: "2–5% noise, N=1,2,4,8 ×3",
  });
  rows.push({
    name: `fit: 95% CI coverage, s=${s}`,
    figure: covered / trials,
    unit: "fraction",
    peer: 0.95,
    peerName: "nominal",
  });
}
printBenchRows(rows);
