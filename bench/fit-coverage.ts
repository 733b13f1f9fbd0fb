/**
 * Coverage of the 95% CI on s, measured on the simulator with planted truth:
 * the shipped main job's design (GPUs 1, 2, 4, 8 × 3 repeats, 2 s warm-up,
 * 5 s window, 32 users, medium prompts, 32 output tokens, planted s = 0.08,
 * time scale 0.5) run on the simulator's engine in virtual time
 * (sim/engine/virtual-campaign.ts), each run with its own prompt sample and a
 * 3% speed jitter, fitted by the same code as `vscale fit` (fitPoints, B =
 * 1000). Then the case an interval must not hide: the runs of one N (N = 8)
 * 5% low. And, for contrast, residual resampling without repeats
 * (`--ci residual`), which covers by width.
 */
import { fitPoints } from "../analysis/fit/fit-group.ts";
import type { ScalingPoint } from "../analysis/fit/points.ts";
import {
  MAIN_JOB_DESIGN,
  runVirtualCampaign,
  type VirtualDesign,
} from "../sim/engine/virtual-campaign.ts";
import { quantileSorted } from "../stats/quantile.ts";
import { type BenchRow, printBenchRows } from "./report.ts";

const SEEDS = 100;
const B = 1000;
const PLANTED = MAIN_JOB_DESIGN.serialFraction;

interface Coverage {
  coverage: number;
  medianWidth: number;
  meanS: number;
  intervals: number;
}

function measure(
  design: VirtualDesign,
  opts: { bias?: number; ci?: "runs" | "residual" } = {},
): Coverage {
  let covered = 0;
  let intervals = 0;
  let sumS = 0;
  const widths: number[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const points: ScalingPoint[] = runVirtualCampaign(design, seed).map((p) => ({
      n: p.n,
      x: p.n === 8 ? p.x * (1 - (opts.bias ?? 0)) : p.x,
    }));
    const fit = fitPoints(points, { bootstrap: B, seed, ci: opts.ci ?? "runs" });
    if (!fit.ok) throw new Error(fit.reason);
    sumS += fit.fit.amdahl.s;
    const ci = fit.fit.amdahl.ci;
    if (!ci) continue;
    intervals++;
    widths.push(ci.high - ci.low);
    if (ci.low <= PLANTED && PLANTED <= ci.high) covered++;
  }
  widths.sort((a, b) => a - b);
  return {
    coverage: covered / SEEDS,
    medianWidth: widths.length > 0 ? quantileSorted(Float64Array.from(widths), 0.5) : Number.NaN,
    meanS: sumS / SEEDS,
    intervals,
  };
}

const rows: BenchRow[] = [];
const note = `${SEEDS} seeds, virtual time, 3% run-to-run speed jitter, B=${B}`;
function add(name: string, c: Coverage): void {
  rows.push({
    name: `fit CI: coverage of planted s, ${name}`,
    figure: c.coverage,
    unit: "fraction",
    peer: 0.9,
    peerName: "goal",
    note: `${c.intervals} intervals of ${SEEDS}; ${note}`,
  });
  rows.push({
    name: `fit CI: median width, ${name}`,
    figure: c.medianWidth,
    unit: "s",
    peer: null,
  });
  rows.push({
    name: `fit CI: mean ŝ, ${name}`,
    figure: c.meanS,
    unit: "s",
    peer: PLANTED,
    peerName: "planted s",
  });
}

const started = performance.now();
add("main job (users 32, 3 repeats)", measure(MAIN_JOB_DESIGN));
add("users 8, 3 repeats", measure({ ...MAIN_JOB_DESIGN, users: 8 }));
add("users 32, 2 repeats", measure({ ...MAIN_JOB_DESIGN, repeats: 2 }));
add("main job, N=8 runs 5% low", measure(MAIN_JOB_DESIGN, { bias: 0.05 }));
const single = { ...MAIN_JOB_DESIGN, repeats: 1 };
add("1 run per N, --ci residual", measure(single, { ci: "residual" }));
add("1 run per N, --ci residual, N=8 5% low", measure(single, { ci: "residual", bias: 0.05 }));
const noJitter = measure({ ...MAIN_JOB_DESIGN, jitter: 0 });
rows.push({
  name: "fit CI: mean ŝ without speed jitter (the design's own s)",
  figure: noJitter.meanS,
  unit: "s",
  peer: PLANTED,
  peerName: "planted s",
  note: "prompt samples still differ per run",
});
rows.push({
  name: "fit CI: bench wall time",
  figure: (performance.now() - started) / 1000,
  unit: "s",
  peer: null,
});
printBenchRows(rows);
