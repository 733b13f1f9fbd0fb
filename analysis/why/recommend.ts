/**
 * Which server configuration to run for each fixed workload, per goal. The
 * workload (the load factors: users, rate, prompt set, scenario, sweep step
 * …, and campaign, model and mode) is the context, never the choice: a load
 * level is what the user will offer, not something to pick. Within a
 * workload the configurations (the server factors: gpus, tp, dp, flags) are
 * compared on their runs: a configuration is a candidate when every one of
 * its ok, not client-limited runs meets the SLOs; its score is the mean over
 * runs. The winner is called `best` only when its lead over the runner-up
 * lies outside the 95% Welch interval of the run-to-run noise; within it the
 * two are `tied`; with one run on a side the noise is unmeasured and the
 * lead is `unreplicated`. Each row's sentence says only that.
 */
import { FACTOR_NAMES, FACTORS, type FactorName } from "../../config/factors.ts";
import {
  GOALS,
  type Goal,
  type RecommendationRow,
  type Verdict,
} from "../../formats/why-tables.ts";
import { tCritical975 } from "../../stats/t-quantile.ts";
import type { SummaryRow } from "../fit/summary.ts";

export { GOALS, type Goal };
export type Recommendation = RecommendationRow;

const LOAD_FACTORS = FACTOR_NAMES.filter((f) => FACTORS[f].role === "load");
const SERVER_FACTORS = FACTOR_NAMES.filter((f) => FACTORS[f].role === "server");
/** Not factors, but fixed by the workload too: what is served and how the load is offered. */
const CONTEXT_COLUMNS = ["campaign", "model", "mode"] as const;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const set = (v: unknown) => v !== undefined && v !== null && v !== "";
const pairs = (row: SummaryRow, names: readonly string[]) =>
  names.filter((n) => set(row[n])).map((n) => `${n}=${String(row[n])}`);

interface Run {
  row: SummaryRow;
  x: number;
  p99: number;
}

interface Config {
  key: string;
  label: string;
  runs: Run[];
  meetsSlo: boolean;
  x: number;
  p99: number;
}

interface Scored {
  config: Config;
  scores: number[];
  mean: number;
  sd: number | null;
}

function meetsSlo(row: SummaryRow, slo: Readonly<Record<string, number>>): boolean {
  return Object.entries(slo).every(([column, limit]) => {
    const v = num(row[column]);
    return v !== null && v <= limit;
  });
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sdOf = (xs: readonly number[]) => {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1));
};

/** Nobody has both more throughput and a lower p99 (and is better in one). */
function onFront(c: Config, all: readonly Config[]): boolean {
  return !all.some((o) => o.x >= c.x && o.p99 <= c.p99 && (o.x > c.x || o.p99 < c.p99));
}

interface GoalDef {
  title: string;
  /** Score of one run (higher is better); null when the run lacks the figure. */
  score: (run: Run, all: readonly Config[]) => number | null;
  /** A configuration value, not a measurement: no run-to-run noise. */
  exact?: (run: Run) => boolean;
  /** The figure as a reader reads it (a score's magnitude), and its unit. */
  show: (magnitude: number, exact: boolean) => string;
  /** A spread in the score's units, the number alone. */
  spread: (sd: number) => string;
  what: string;
}

const f1 = (v: number) => v.toFixed(1);

/**
 * memory: the smallest KV cache (num_gpu_blocks, set by the configuration,
 * else the GPU memory used) that still meets the SLOs; cache: the highest
 * prefix-cache hit rate (none with caching off, which counts no queries);
 * balanced: throughput over the workload's best times the best p99 over this
 * p99 (configuration means).
 */
const GOAL_DEFS: Record<Goal, GoalDef> = {
  throughput: {
    title: "throughput",
    score: (r) => r.x,
    show: (v) => `${f1(v)} tok/s`,
    spread: f1,
    what: "output tokens/s",
  },
  throughput_per_gpu: {
    title: "throughput per GPU",
    score: (r) => r.x / r.row.gpus,
    show: (v) => `${f1(v)} tok/s per GPU`,
    spread: f1,
    what: "output tokens/s per GPU",
  },
  latency: {
    title: "latency (e2e p99)",
    score: (r) => -r.p99,
    show: (v) => `${f1(v)} ms`,
    spread: f1,
    what: "e2e p99",
  },
  memory: {
    title: "memory",
    // One unit per workload: KV blocks where every candidate sets them, else memory used.
    score: (r, all) => {
      const blocks = all.every((c) => c.runs.every((x) => num(x.row.num_gpu_blocks) !== null));
      const kv = blocks ? num(r.row.num_gpu_blocks) : num(r.row.gpu_mem_used_mib_mean);
      return kv === null ? null : -kv;
    },
    exact: (r) => num(r.row.num_gpu_blocks) !== null,
    show: (v, exact) => (exact ? `${Math.round(v)} KV blocks` : `${f1(v)} MiB GPU memory used`),
    spread: f1,
    what: "num_gpu_blocks or GPU memory used",
  },
  cache: {
    title: "prefix caching",
    score: (r) => num(r.row.server_prefix_hit_rate),
    show: (v) => `hit rate ${v.toFixed(3)}`,
    spread: (v) => v.toFixed(3),
    what: "prefix-cache hit rate",
  },
  balanced: {
    title: "throughput and p99 together",
    score: (r, all) => {
      const xMax = Math.max(...all.map((c) => c.x));
      const pMin = Math.min(...all.map((c) => c.p99));
      return (r.x / xMax) * (pMin / r.p99);
    },
    show: (v) => `score ${v.toFixed(3)}`,
    spread: (v) => v.toFixed(3),
    what: "throughput × p99, each against the workload's best",
  },
};

const runsText = (n: number) => `${n} run${n === 1 ? "" : "s"}`;
const pct = (v: number) => `${v >= 0 ? "+" : ""}${(100 * v).toFixed(1)}%`;

/** The workloads, each with its configurations (only server factors that vary are named). */
function workloads(rows: readonly SummaryRow[], slo: Readonly<Record<string, number>>) {
  const ok = rows.filter((r) => r.status === "ok");
  const varying = (names: readonly string[], within: readonly SummaryRow[]) =>
    names.filter((n) => new Set(within.map((r) => String(r[n] ?? ""))).size > 1);
  const shownContext = [
    ...varying(CONTEXT_COLUMNS, ok),
    ...LOAD_FACTORS.filter((f) => ok.some((r) => set(r[f]))),
  ];
  const byContext = new Map<string, SummaryRow[]>();
  for (const row of ok) {
    const key = pairs(row, [...CONTEXT_COLUMNS, ...LOAD_FACTORS]).join(" ");
    byContext.set(key, [...(byContext.get(key) ?? []), row]);
  }
  return [...byContext.values()].map((ctxRows) => {
    const first = ctxRows[0] as SummaryRow;
    const shownConfig = new Set<string>(["gpus", ...varying(SERVER_FACTORS, ctxRows)]);
    const byConfig = new Map<string, SummaryRow[]>();
    for (const row of ctxRows) {
      const key = pairs(row, SERVER_FACTORS).join(" ");
      byConfig.set(key, [...(byConfig.get(key) ?? []), row]);
    }
    const configs: Config[] = [];
    for (const [key, cfgRows] of byConfig) {
      // A client-limited run measured the load client, not this configuration.
      const measured = cfgRows.filter((r) => r.client_limited !== true);
      const runs = measured.flatMap((row) => {
        const x = num(row.output_tokens_per_s);
        const p99 = num(row.e2e_ms_p99);
        return x === null || p99 === null ? [] : [{ row, x, p99 }];
      });
      configs.push({
        key,
        label: pairs(cfgRows[0] as SummaryRow, SERVER_FACTORS)
          .filter((p) => shownConfig.has(p.split("=")[0] as FactorName))
          .join(" "),
        runs,
        // Every run, not most: one run past the SLO is a configuration that can miss it.
        meetsSlo:
          runs.length > 0 &&
          runs.length === measured.length &&
          measured.every((r) => meetsSlo(r, slo)),
        x: runs.length > 0 ? mean(runs.map((r) => r.x)) : Number.NaN,
        p99: runs.length > 0 ? mean(runs.map((r) => r.p99)) : Number.NaN,
      });
    }
    configs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return {
      context: pairs(first, shownContext).join(" ") || "every experiment",
      measured: configs.length,
      candidates: configs.filter((c) => c.meetsSlo),
    };
  });
}

/** The 95% Welch interval of mean(a) − mean(b) over runs; null below two runs a side. */
function welch(a: Scored, b: Scored): { low: number; high: number } | null {
  const [na, nb] = [a.scores.length, b.scores.length];
  if (na < 2 || nb < 2 || a.sd === null || b.sd === null) return null;
  const [va, vb] = [a.sd ** 2 / na, b.sd ** 2 / nb];
  const diff = a.mean - b.mean;
  if (va + vb === 0) return { low: diff, high: diff };
  const df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1));
  const half = tCritical975(df) * Math.sqrt(va + vb);
  return { low: diff - half, high: diff + half };
}

function recommendGoal(
  goal: Goal,
  w: ReturnType<typeof workloads>[number],
  sloText: string,
): RecommendationRow {
  const def = GOAL_DEFS[goal];
  const base: RecommendationRow = {
    context: w.context,
    goal,
    verdict: null,
    config: null,
    experiments: null,
    runs: 0,
    score: null,
    score_sd: null,
    output_tokens_per_s: null,
    e2e_ms_p99: null,
    pareto: null,
    runner_up: null,
    runner_up_runs: null,
    margin: null,
    margin_low: null,
    margin_high: null,
    candidates: w.candidates.length,
    configurations: w.measured,
    slo: sloText,
    sentence: "",
  };
  const head = `For ${w.context}, ${def.title}`;
  if (w.candidates.length === 0)
    return {
      ...base,
      sentence: `${head}: none of the ${w.measured} configuration(s) measured qualifies: none has every ok run not limited by the load client, with throughput and e2e p99, and within the SLOs (${sloText}).`,
    };
  const scored: Scored[] = w.candidates.flatMap((config) => {
    const scores = config.runs.map((r) => def.score(r, w.candidates));
    if (scores.some((s) => s === null)) return [];
    const s = scores as number[];
    return [{ config, scores: s, mean: mean(s), sd: sdOf(s) }];
  });
  if (scored.length === 0)
    return {
      ...base,
      sentence: `${head}: no configuration has the figures this goal needs (${def.what}).`,
    };
  scored.sort((a, b) => b.mean - a.mean || (a.config.key < b.config.key ? -1 : 1));
  const [best, second] = scored as [Scored, Scored | undefined];
  const cfg = best.config;
  const row: RecommendationRow = {
    ...base,
    config: cfg.label,
    experiments: cfg.runs.map((r) => r.row.experiment_id).join("; "),
    runs: cfg.runs.length,
    score: best.mean,
    score_sd: best.sd,
    output_tokens_per_s: cfg.x,
    e2e_ms_p99: cfg.p99,
    pareto: onFront(cfg, w.candidates),
  };
  // A configuration value in every candidate: differences are exact, not noisy.
  const exactGoal =
    def.exact !== undefined && w.candidates.every((c) => c.runs.every((r) => def.exact?.(r)));
  const figure = `${def.show(Math.abs(best.mean), exactGoal)}, ${
    best.sd === null
      ? runsText(cfg.runs.length)
      : `mean of ${runsText(cfg.runs.length)}, sd ${def.spread(best.sd)}`
  }`;
  if (second === undefined)
    return {
      ...row,
      verdict: "only",
      sentence: `${head}: only ${cfg.label} qualifies with this figure (${figure}); nothing to choose between.`,
    };
  const scale = Math.abs(second.mean);
  const rel = (v: number) => (scale > 0 ? v / scale : null);
  const margin = rel(best.mean - second.mean);
  const exact = exactGoal;
  const interval = exact ? null : welch(best, second);
  const verdict: Verdict = exact
    ? best.mean > second.mean
      ? "best"
      : "tied"
    : interval === null
      ? "unreplicated"
      : interval.low > 0
        ? "best"
        : "tied";
  const withRunner = {
    ...row,
    verdict,
    runner_up: second.config.label,
    runner_up_runs: second.config.runs.length,
    margin,
    margin_low: interval ? rel(interval.low) : null,
    margin_high: interval ? rel(interval.high) : null,
  };
  const lead = margin === null ? "" : ` ${pct(margin)}`;
  const range =
    withRunner.margin_low !== null && withRunner.margin_high !== null
      ? ` [${pct(withRunner.margin_low)}, ${pct(withRunner.margin_high)}] (95% interval over ${runsText(cfg.runs.length)} and ${runsText(second.config.runs.length)})`
      : "";
  const other = `${second.config.label} (${runsText(second.config.runs.length)})`;
  let sentence: string;
  if (exact)
    sentence =
      verdict === "best"
        ? `${head}: best is ${cfg.label} (${figure}, set by the configuration), against ${second.config.label}.`
        : `${head}: ${cfg.label} and ${second.config.label} are tied (${figure}, set by the configuration).`;
  else if (verdict === "best")
    sentence = `${head}: best is ${cfg.label} (${figure}), ahead of ${other} by${lead}${range}.`;
  else if (verdict === "tied")
    sentence = `${head}: ${cfg.label} (${figure}) and ${other} are tied: its lead of${lead}${range} is within run-to-run noise.`;
  else
    sentence = `${head}: ${cfg.label} (${figure}) is ahead of ${other} by${lead}, but with one run on a side the run-to-run noise is not measured, so this is no choice: repeat to tell.`;
  return { ...withRunner, sentence };
}

export function recommend(
  rows: readonly SummaryRow[],
  slo: Readonly<Record<string, number>> = {},
): RecommendationRow[] {
  const sloText =
    Object.keys(slo).length > 0
      ? Object.entries(slo)
          .map(([k, v]) => `${k}<=${v}`)
          .join("; ")
      : "none";
  return workloads(rows, slo)
    .sort((a, b) => a.context.localeCompare(b.context, "en", { numeric: true }))
    .flatMap((w) => GOALS.map((goal) => recommendGoal(goal, w, sloText)));
}
