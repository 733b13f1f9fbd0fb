/**
 * The "Why not linear" numbers, per scaling group of the fits: step-phase
 * shares, Karp–Flatt e(N), bottleneck classes and top kernels at each N, and
 * the server-side serial fraction beside the fitted s with one sentence
 * saying how much of s the step timings account for. Written to
 * `agg/why.csv` and `agg/why_points.csv` (formats/why-tables.ts); the report
 * draws these rows and computes nothing.
 */
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { aggPath } from "../../formats/agg-layout.ts";
import { KERNELS_TABLE, STEP_PHASES_TABLE } from "../../formats/profile-tables.ts";
import { readOptionalTable, type TableRow } from "../../formats/read-table.ts";
import {
  RECOMMENDATION_COLUMNS,
  RECOMMENDATIONS_FILE,
  RecommendationRowSchema,
  WHY_COLUMNS,
  WHY_FILE,
  WHY_POINT_COLUMNS,
  WHY_POINTS_FILE,
} from "../../formats/why-tables.ts";
import { tableCsv } from "../aggregate/table-csv.ts";
import type { FitResult, GroupFit } from "../fit/index.ts";
import type { Summary } from "../fit/summary.ts";
import { type Recommendation, recommend } from "./recommend.ts";
import { type ServerSerial, type StepTiming, serverSerialFraction } from "./server-serial.ts";

export interface WhyGroupRow {
  group: string;
  s_fit: number | null;
  s_fit_low: number | null;
  s_fit_high: number | null;
  s_server: number | null;
  s_server_low: number | null;
  s_server_high: number | null;
  comparisons: number;
  explained: number | null;
  sentence: string;
}

export interface WhyPointRow {
  group: string;
  n: number;
  experiments: number;
  steps: number;
  schedule_share: number | null;
  execute_share: number | null;
  update_share: number | null;
  step_ms_mean: number | null;
  karp_flatt_e: number | null;
  bottleneck: string | null;
  top_kernels: string | null;
}

export interface Why {
  groups: WhyGroupRow[];
  points: WhyPointRow[];
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const p3 = (v: number) => v.toFixed(3);

/**
 * The sentence: the two estimates side by side, and a reading that stays true
 * whichever is larger (a ratio, not a share "accounted for"): agreement when
 * their 95% intervals overlap, else which one is larger and what that means.
 */
export function whySentence(
  fitS: number | null,
  server: ServerSerial,
  fitCi: { low: number; high: number } | null = null,
): string {
  if (server.s === null)
    return "No server-side serial fraction: no step timings at N = 1 and N > 1 with shapes in common (run with load.profile).";
  const srvCi =
    server.low !== null && server.high !== null ? ` [${p3(server.low)}, ${p3(server.high)}]` : "";
  const srv = `server-side s = ${p3(server.s)}${srvCi}`;
  if (fitS === null || !(fitS > 0)) return `${srv}; no fitted s to compare with.`;
  const fit = `the fitted s = ${p3(fitS)}${fitCi ? ` [${p3(fitCi.low)}, ${p3(fitCi.high)}]` : ""}`;
  const head = `Step time that does not shrink with N (${srv}) is ${(server.s / fitS).toFixed(2)}× ${fit}`;
  const overlap =
    fitCi !== null &&
    server.low !== null &&
    server.high !== null &&
    server.low <= fitCi.high &&
    fitCi.low <= server.high;
  if (overlap) return `${head}: the two agree within their 95% intervals.`;
  if (server.s < fitS)
    return `${head}: the server's steps are the smaller part; the rest lies outside them (HTTP, tokenisation, the client, queueing).`;
  return `${head}: the steps lose more to serial work than the throughput shows (work that overlaps the steps, or a fit pulled down by super-linear effects).`;
}

function inGroup(g: GroupFit, row: TableRow): boolean {
  const campaign = g.key.campaign;
  return (
    typeof row.experiment_id === "string" &&
    g.experiments.includes(row.experiment_id) &&
    (typeof campaign !== "string" || row.campaign === campaign)
  );
}

function topKernels(rows: readonly TableRow[]): string | null {
  const total = new Map<string, number>();
  for (const r of rows) {
    const us = num(r.total_us);
    if (typeof r.name === "string" && us !== null) total.set(r.name, (total.get(r.name) ?? 0) + us);
  }
  const all = [...total.values()].reduce((a, b) => a + b, 0);
  if (all <= 0) return null;
  return [...total.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, us]) => `${name} (${p3(us / all)})`)
    .join("; ");
}

export function whyRows(
  fits: FitResult,
  summary: Summary,
  stepRows: readonly TableRow[],
  kernelRows: readonly TableRow[],
): Why {
  const groups: WhyGroupRow[] = [];
  const points: WhyPointRow[] = [];
  for (const g of fits.groups) {
    const nOf = new Map(g.experiments.map((id, i) => [id, g.points[i]?.n ?? null]));
    const steps = stepRows.filter((r) => inGroup(g, r));
    const byN = new Map<number, StepTiming[]>();
    for (const r of steps) {
      const n = nOf.get(r.experiment_id as string);
      const stepS = num(r.step_s);
      if (n === null || n === undefined || stepS === null) continue;
      const timing = {
        stepS,
        prefillTokens: num(r.prefill_tokens),
        decodeTokens: num(r.decode_tokens),
      };
      byN.set(n, [...(byN.get(n) ?? []), timing]);
    }
    const server = serverSerialFraction(byN);
    const fitS = Number.isFinite(g.amdahl.s) ? g.amdahl.s : null;
    groups.push({
      group: g.group,
      s_fit: fitS,
      s_fit_low: g.amdahl.ci?.low ?? null,
      s_fit_high: g.amdahl.ci?.high ?? null,
      s_server: server.s,
      s_server_low: server.low,
      s_server_high: server.high,
      comparisons: server.comparisons,
      explained: server.s !== null && fitS !== null && fitS > 0 ? server.s / fitS : null,
      sentence: whySentence(fitS, server, g.amdahl.ci),
    });
    for (const n of [...new Set(g.distinctN)].sort((a, b) => a - b)) {
      const ids = new Set(g.experiments.filter((id) => nOf.get(id) === n));
      const at = steps.filter((r) => ids.has(r.experiment_id as string));
      const sum = (c: string) => at.reduce((a, r) => a + (num(r[c]) ?? 0), 0);
      const stepS = sum("step_s");
      const share = (c: string) => (stepS > 0 ? sum(c) / stepS : null);
      const classes = summary.rows
        .filter((r) => ids.has(r.experiment_id) && inGroup(g, r))
        .map((r) => r.bottleneck)
        .filter((b): b is string => typeof b === "string");
      points.push({
        group: g.group,
        n,
        experiments: ids.size,
        steps: at.length,
        schedule_share: share("scheduler_s"),
        execute_share: share("execute_s"),
        update_share: share("update_s"),
        step_ms_mean: at.length > 0 ? (1000 * stepS) / at.length : null,
        karp_flatt_e: g.karpFlatt.points.find((p) => p.n === n)?.e ?? null,
        bottleneck: classes.length > 0 ? [...new Set(classes)].sort().join("; ") : null,
        top_kernels: topKernels(
          kernelRows.filter((r) => ids.has(r.experiment_id as string) && inGroup(g, r)),
        ),
      });
    }
  }
  return { groups, points };
}

/** Reads the profile tables, computes the rows, writes both CSVs. */
export async function writeWhy(
  resultsDir: string,
  summary: Summary,
  fits: FitResult,
): Promise<Why> {
  const steps = await readOptionalTable(
    STEP_PHASES_TABLE,
    aggPath(resultsDir, STEP_PHASES_TABLE.file),
  );
  const kernels = await readOptionalTable(KERNELS_TABLE, aggPath(resultsDir, KERNELS_TABLE.file));
  const why = whyRows(fits, summary, steps?.rows ?? [], kernels?.rows ?? []);
  await writeFileAtomic(
    aggPath(resultsDir, WHY_FILE),
    tableCsv(WHY_COLUMNS, why.groups as never[]),
  );
  await writeFileAtomic(
    aggPath(resultsDir, WHY_POINTS_FILE),
    tableCsv(WHY_POINT_COLUMNS, why.points as never[]),
  );
  return why;
}

/** `agg/recommendations.csv`: per workload and goal, the configuration to run (recommend.ts). */
export async function writeRecommendations(
  resultsDir: string,
  summary: Summary,
  slo: Readonly<Record<string, number>> = {},
): Promise<Recommendation[]> {
  const rows = RecommendationRowSchema.array().parse(recommend(summary.rows, slo));
  await writeFileAtomic(
    aggPath(resultsDir, RECOMMENDATIONS_FILE),
    tableCsv(RECOMMENDATION_COLUMNS, rows as never[]),
  );
  return rows;
}
