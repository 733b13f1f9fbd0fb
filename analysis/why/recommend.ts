/**
 * The best configuration for each of seed 002_eceddc5d9b8009c0's goals from
 * the measured experiments of a campaign. Candidates are ok experiments the
 * client did not limit whose figures meet every SLO; each goal scores them
 * (higher is better), the best wins and the margin to the runner-up says how
 * clear the choice is. Throughput, latency and balanced winners are on the
 * throughput–p99-latency Pareto front by construction (their scores are
 * monotone in both); `pareto` says so for each.
 */
import { FACTOR_NAMES } from "../../config/schema.ts";
import type { SummaryRow } from "../fit/summary.ts";

export const GOALS = ["throughput", "latency", "memory", "cache", "balanced"] as const;
export type Goal = (typeof GOALS)[number];

export interface Recommendation {
  goal: Goal;
  experiment_id: string | null;
  config: string | null;
  score: number | null;
  output_tokens_per_s: number | null;
  e2e_ms_p99: number | null;
  pareto: boolean | null;
  runner_up: string | null;
  margin: number | null;
  candidates: number;
  note: string | null;
}

interface Candidate {
  row: SummaryRow;
  x: number;
  p99: number;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function meetsSlo(row: SummaryRow, slo: Readonly<Record<string, number>>): boolean {
  return Object.entries(slo).every(([column, limit]) => {
    const v = num(row[column]);
    return v !== null && v <= limit;
  });
}

function configOf(row: SummaryRow): string {
  return FACTOR_NAMES.filter((n) => row[n] !== undefined && row[n] !== null)
    .map((n) => `${n}=${String(row[n])}`)
    .join(" ");
}

/** Nobody has both more throughput and a lower p99 (and is better in one). */
function onFront(c: Candidate, all: readonly Candidate[]): boolean {
  return !all.some((o) => o.x >= c.x && o.p99 <= c.p99 && (o.x > c.x || o.p99 < c.p99));
}

/**
 * Goal scores. memory: the smallest KV cache (num_gpu_blocks, else the
 * GPU memory used) that still meets the SLOs; cache: the highest prefix-cache
 * hit rate (seed 002's "cache optimized"; none with caching off, which counts
 * no queries); balanced: throughput over the best throughput times the best
 * p99 over this p99.
 */
function scorer(goal: Goal, all: readonly Candidate[]): (c: Candidate) => number | null {
  const xMax = Math.max(...all.map((c) => c.x));
  const pMin = Math.min(...all.map((c) => c.p99));
  switch (goal) {
    case "throughput":
      return (c) => c.x;
    case "latency":
      return (c) => -c.p99;
    case "memory":
      return (c) => {
        const kv = num(c.row.num_gpu_blocks) ?? num(c.row.gpu_mem_used_mib_mean);
        return kv === null ? null : -kv;
      };
    case "cache":
      return (c) => num(c.row.server_prefix_hit_rate);
    case "balanced":
      return (c) => (c.x / xMax) * (pMin / c.p99);
  }
}

export function recommend(
  rows: readonly SummaryRow[],
  slo: Readonly<Record<string, number>> = {},
): Recommendation[] {
  const candidates: Candidate[] = [];
  for (const row of rows) {
    const x = num(row.output_tokens_per_s);
    const p99 = num(row.e2e_ms_p99);
    if (row.status !== "ok" || row.client_limited === true || x === null || p99 === null) continue;
    if (meetsSlo(row, slo)) candidates.push({ row, x, p99 });
  }
  const sloNote =
    Object.keys(slo).length > 0
      ? `slo: ${Object.entries(slo)
          .map(([k, v]) => `${k}<=${v}`)
          .join("; ")}`
      : "no slo";
  return GOALS.map((goal) => {
    const empty: Recommendation = {
      goal,
      experiment_id: null,
      config: null,
      score: null,
      output_tokens_per_s: null,
      e2e_ms_p99: null,
      pareto: null,
      runner_up: null,
      margin: null,
      candidates: candidates.length,
      note: null,
    };
    if (candidates.length === 0)
      return { ...empty, note: `no experiment meets the objectives (${sloNote})` };
    const score = scorer(goal, candidates);
    const ranked = candidates
      .map((c) => ({ c, s: score(c) }))
      .filter((r): r is { c: Candidate; s: number } => r.s !== null)
      .sort((a, b) => b.s - a.s || (a.c.row.experiment_id < b.c.row.experiment_id ? -1 : 1));
    const [best, second] = ranked;
    if (best === undefined)
      return { ...empty, note: "no candidate has the figures this goal needs" };
    return {
      ...empty,
      experiment_id: best.c.row.experiment_id,
      config: configOf(best.c.row),
      score: best.s,
      output_tokens_per_s: best.c.x,
      e2e_ms_p99: best.c.p99,
      pareto: onFront(best.c, candidates),
      runner_up: second?.c.row.experiment_id ?? null,
      margin: second && second.s !== 0 ? (best.s - second.s) / Math.abs(second.s) : null,
      note: sloNote,
    };
  });
}
