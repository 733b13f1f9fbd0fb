/**
 * `vscale compare` against planted truth on real campaigns: small campaigns
 * on the simulator (real processes, loopback), each with several identical
 * prompt sets (independent matched sets) × 2 repeats. Configuration A runs
 * at `--sim-time-scale` 0.5; B at 0.45, a planted 10% throughput loss.
 * - A/A false-positive rate: campaign pairs (A, A), every matched set a
 *   pair, 2 runs a side; a pair is a false positive when any figure is a
 *   regression (what fails a CI job).
 * - Power: (A, B) pairs, 2 runs a side; found when throughput is a regression.
 * - The noise floor: the 95th and 99th percentiles of |B / A − 1| between
 *   single runs of A from different campaigns, and between two-run sides
 *   (× √2), per figure, beside the table compare uses.
 * - One run a side: the false-positive rate and power with that floor.
 * Runs are read by the reader compare uses (read-sides.ts) and judged by the
 * same judgeSet(); only the grouping of runs into pairs is the bench's.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  COMPARE_METRICS,
  type CompareMetric,
  type RunSample,
  sideFigure,
} from "../analysis/compare/bootstrap-change.ts";
import { readSide } from "../analysis/compare/read-sides.ts";
import { judgeSet, NOISE_FLOOR } from "../analysis/compare/verdict.ts";
import { runCampaign } from "../campaign/run-campaign.ts";
import { loadPlan } from "../config/plan.ts";
import { quantileSorted } from "../stats/quantile.ts";
import { type BenchRow, printBenchRows } from "./report.ts";

const A_CAMPAIGNS = 8;
const B_CAMPAIGNS = 4;
const SETS = 5;
const TIME_SCALE_A = 0.2;
const TIME_SCALE_B = 0.18;
const JUDGE = { threshold: 0.05, bootstrap: 1000, seed: 1 };

const PROMPT_SET = `
    tokens: {dist: normal, mean: 16, std: 4, min: 4, max: 32}
    output_tokens: {dist: uniform, min: 4, max: 12}
    count: 256`;

// Prefix caching off: with it, each repeat finds the previous one's prompts
// cached and runs faster, a trend across repeats rather than noise. A slow
// simulated GPU (decode steps of ~70 ms) with many short requests keeps the
// harness's own CPU jitter small next to the modelled step times.
const matrix = (name: string, seed: number, timeScale: number) => `
campaign: ${name}
seed: ${seed}
repeats: 2
server:
  kind: sim
  model: bench-model
  port: auto
  health_timeout: 60s
  args: [--sim-time-scale, "${timeScale}", --max-num-seqs, "64", --no-enable-prefix-caching]
load:
  engine: node
  mode: closed
  spawn_rate: 128
  warmup: 500ms
  duration: 2s
  workers: 1
  timeout: 10s
prompts:
${Array.from({ length: SETS }, (_, i) => `  p${i + 1}:${PROMPT_SET}`).join("\n")}
factors:
  gpus: [1]
  users: [64]
  prompt_set: [${Array.from({ length: SETS }, (_, i) => `p${i + 1}`).join(", ")}]
`;

type Runs = Map<string, RunSample[]>;

async function campaign(dir: string, name: string, seed: number, timeScale: number): Promise<Runs> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, matrix(name, seed, timeScale));
  const results = join(dir, "results");
  await runCampaign(await loadPlan(file), { resultsDir: results });
  const side = await readSide(join(results, "raw", name), (line) =>
    console.error(`warning: ${line}`),
  );
  return new Map([...side.sets].map(([key, set]) => [key, set.runs]));
}

const started = performance.now();
const dir = await mkdtemp(join(tmpdir(), "vscale-bench-compare-"));
const a: Runs[] = [];
const b: Runs[] = [];
try {
  // Interleaved (A, A, B, A, A, B, …): each pair's campaigns ran minutes apart at most.
  for (let i = 0; i < A_CAMPAIGNS; i++) {
    console.error(`bench compare: campaign A ${i + 1}/${A_CAMPAIGNS}`);
    a.push(await campaign(dir, `a${i}`, 100 + i, TIME_SCALE_A));
    if (i % 2 === 1 && b.length < B_CAMPAIGNS) {
      console.error(`bench compare: campaign B ${b.length + 1}/${B_CAMPAIGNS}`);
      b.push(await campaign(dir, `b${b.length}`, 200 + b.length, TIME_SCALE_B));
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const minutes = (performance.now() - started) / 60_000;
const keys = [...(a[0]?.keys() ?? [])];

/** Every matched set of two campaigns as a pair of run lists, `pick` choosing the runs. */
function pairs(x: Runs, y: Runs, pick: (runs: RunSample[]) => RunSample[][]) {
  return keys.flatMap((k) => {
    const [px, py] = [pick(x.get(k) ?? []), pick(y.get(k) ?? [])];
    return px.map((runs, i) => [runs, py[i] ?? []] as const);
  });
}
const both = (runs: RunSample[]) => [runs];
const singles = (runs: RunSample[]) => runs.map((r) => [r]);

const aa2 = Array.from({ length: A_CAMPAIGNS / 2 }, (_, i) =>
  pairs(a[2 * i] as Runs, a[2 * i + 1] as Runs, both),
).flat();
const ab2 = b.flatMap((bi, i) => pairs(a[2 * i] as Runs, bi, both));
const aa1 = Array.from({ length: A_CAMPAIGNS / 2 }, (_, i) =>
  pairs(a[2 * i] as Runs, a[2 * i + 1] as Runs, singles),
).flat();
const ab1 = b.flatMap((bi, i) => pairs(a[2 * i] as Runs, bi, singles));

const judged = (list: (readonly [RunSample[], RunSample[]])[]) =>
  list.map(([x, y]) => judgeSet(x, y, JUDGE));
const anyRegression = (v: ReturnType<typeof judgeSet>) => v.changes.some((c) => c.regression);
const throughputFound = (v: ReturnType<typeof judgeSet>) =>
  v.changes.some((c) => c.metric === "output_tokens_per_s" && c.regression);
const rate = (
  list: ReturnType<typeof judgeSet>[],
  hit: (v: ReturnType<typeof judgeSet>) => boolean,
) => list.filter(hit).length / Math.max(1, list.length);

const [vAA2, vAB2, vAA1, vAB1] = [judged(aa2), judged(ab2), judged(aa1), judged(ab1)];
const meanThroughput = (runs: Runs[]) => {
  const all = runs.flatMap((r) => [...r.values()].flat());
  return all.reduce((s, r) => s + r.outputTokensPerS, 0) / all.length;
};
const plantedNote = `A sim-time-scale ${TIME_SCALE_A}, B ${TIME_SCALE_B}; 64 closed-loop users, 2 s windows`;

const rows: BenchRow[] = [
  {
    name: "compare: A/A false-positive rate, 2 runs a side (any figure)",
    figure: rate(vAA2, anyRegression),
    unit: "fraction",
    peer: 0.05,
    peerName: "goal (at most)",
    note: `${vAA2.length} pairs; ${plantedNote}`,
  },
  {
    name: "compare: power, planted 10% throughput loss, 2 runs a side",
    figure: rate(vAB2, throughputFound),
    unit: "fraction",
    peer: 0.9,
    peerName: "goal (at least)",
    note: `${vAB2.length} pairs`,
  },
  {
    name: "compare: measured throughput B / A (planted 0.90)",
    figure: meanThroughput(b) / meanThroughput(a),
    unit: "ratio",
    peer: TIME_SCALE_B / TIME_SCALE_A,
    peerName: "planted",
  },
  {
    name: "compare: A/A false-positive rate, 1 run a side (any figure)",
    figure: rate(vAA1, anyRegression),
    unit: "fraction",
    peer: 0.05,
    peerName: "goal (at most)",
    note: `${vAA1.length} pairs, noise floor applied`,
  },
  {
    name: "compare: power, planted 10% throughput loss, 1 run a side",
    figure: rate(vAB1, throughputFound),
    unit: "fraction",
    peer: null,
    note: `${vAB1.length} pairs: below the noise floor nothing is called`,
  },
];

const q = (values: number[], p: number) =>
  values.length > 0 ? quantileSorted(Float64Array.from(values).sort(), p) : Number.NaN;
const absChange = (metric: CompareMetric, x: RunSample[], y: RunSample[]) => {
  const [fx, fy] = [sideFigure(metric, x), sideFigure(metric, y)];
  return fx !== null && fy !== null && fx > 0 ? Math.abs(fy / fx - 1) : null;
};
// The floor from single runs: every pair of runs of one matched set from
// different A campaigns. And from two-run sides (every pair of A campaigns),
// × √2: a check of the floor's scaling with runs, and the only estimate for
// p99, which a single run of this configuration has too few requests for.
for (const metric of COMPARE_METRICS) {
  const single: number[] = [];
  const double: number[] = [];
  for (const k of keys) {
    const runs = a.flatMap((c, ci) => (c.get(k) ?? []).map((r) => ({ ci, r })));
    for (let i = 0; i < runs.length; i++)
      for (let j = i + 1; j < runs.length; j++) {
        if (runs[i]!.ci === runs[j]!.ci) continue;
        const d = absChange(metric, [runs[i]!.r], [runs[j]!.r]);
        if (d !== null) single.push(d);
      }
    for (let i = 0; i < a.length; i++)
      for (let j = i + 1; j < a.length; j++) {
        const d = absChange(metric, a[i]!.get(k) ?? [], a[j]!.get(k) ?? []);
        if (d !== null) double.push(d);
      }
  }
  for (const p of [0.95, 0.99]) {
    const pct = `${Math.round(p * 100)}th pct |change|`;
    rows.push({
      name: `compare: A/A ${pct} from single runs, ${metric}`,
      figure: q(single, p),
      unit: "fraction",
      peer: NOISE_FLOOR[metric],
      peerName: "floor compare uses",
      note: `${single.length} run pairs`,
    });
    rows.push({
      name: `compare: A/A ${pct} from 2-run sides × √2, ${metric}`,
      figure: q(double, p) * Math.SQRT2,
      unit: "fraction",
      peer: NOISE_FLOOR[metric],
      peerName: "floor compare uses",
      note: `${double.length} campaign pairs`,
    });
  }
}
for (const metric of COMPARE_METRICS) {
  const fp = vAA2.filter((v) => v.changes.some((c) => c.metric === metric && c.regression)).length;
  rows.push({
    name: `compare: A/A false-positive rate, 2 runs a side, ${metric}`,
    figure: fp / Math.max(1, vAA2.length),
    unit: "fraction",
    peer: null,
    note: `${vAA2.length} pairs`,
  });
}
rows.push({
  name: "compare: bench wall time",
  figure: minutes,
  unit: "min",
  peer: null,
  note: `${A_CAMPAIGNS + B_CAMPAIGNS} campaigns × ${SETS} sets × 2 repeats`,
});
printBenchRows(rows);
