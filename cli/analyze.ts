/**
 * After the campaign: aggregate raw results into Parquet, fit the scaling
 * laws, build the report. Each stage is its own module; this only chains
 * them (the summary is read once and fitted once, both handed on) and says
 * where the outputs are and what `s` came out per group.
 */
import { aggregate } from "../analysis/aggregate/index.ts";
import { formatCapacity, writeCapacity } from "../analysis/capacity/index.ts";
import { ciMethodLabel, type FitResult, fitPaths, runFits } from "../analysis/fit/index.ts";
import { readSummary } from "../analysis/fit/summary.ts";
import { buildReport } from "../analysis/report/index.ts";
import { distinctNotes, noteScope } from "../common/distinct-notes.ts";
import { goodputThresholds, type SloSpec } from "../config/slo.ts";

export interface AnalyzeResult {
  summary: string;
  fitCsv: string;
  report: string;
  fits: FitResult;
  lines: string[];
}

function fmt(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(4);
}

/**
 * One line per group, the interval saying how it was made:
 * `s = 0.0812  95% CI [0.0710, 0.0930] (runs resampled within each N)  (users=8, 12 points)`.
 */
export function formatSequentialFractions(fits: FitResult): string[] {
  const lines = [`sequential fraction s (Amdahl) of ${fits.metric}, per group:`];
  for (const g of fits.groups) {
    const ci = g.amdahl.ci
      ? `  95% CI [${fmt(g.amdahl.ci.low)}, ${fmt(g.amdahl.ci.high)}] (${ciMethodLabel(g.amdahl.ci.method)})`
      : `  no CI (${g.amdahl.ciNote ?? "not computed"})`;
    lines.push(`  ${g.label || g.group}: s = ${fmt(g.amdahl.s)}${ci}  (${g.points.length} points)`);
  }
  const reasons = distinctNotes(fits.skipped.map((s) => ({ label: s.group, notes: [s.reason] })));
  for (const n of reasons)
    lines.push(`  ${noteScope(n, fits.skipped.length, "other groups")}: not fitted (${n.text})`);
  return lines;
}

export async function analyzeCampaign(opts: {
  resultsDir: string;
  campaign: string;
  /** The matrix's `slo`: goodput thresholds, capacity.csv and the capacity chart. */
  slo?: SloSpec;
  /** Aggregation's warnings (a damaged input, a figure left empty), as `vscale aggregate` prints them. */
  warn?: (line: string) => void;
}): Promise<AnalyzeResult> {
  const goodput = opts.slo ? goodputThresholds(opts.slo) : {};
  const agg = await aggregate({
    resultsDir: opts.resultsDir,
    campaign: opts.campaign,
    log: opts.warn ?? (() => {}),
    progress: () => {},
    // An SLO without a TTFT (or TPOT) objective puts no limit on it.
    ...(opts.slo
      ? {
          slo: {
            ttftMs: goodput.ttftMs ?? Number.POSITIVE_INFINITY,
            tpotMs: goodput.tpotMs ?? Number.POSITIVE_INFINITY,
          },
        }
      : {}),
  });
  const table = await readSummary(opts.resultsDir);
  const summary = table.file;
  const fits = await runFits({ resultsDir: opts.resultsDir, summary: table });
  const capacity = opts.slo ? await writeCapacity(opts.resultsDir, table, opts.slo) : null;
  const report = await buildReport({
    resultsDir: opts.resultsDir,
    summary: table,
    fits,
    ...(opts.slo ? { slo: opts.slo } : {}),
  });
  const fitCsv = fitPaths(opts.resultsDir).csv;
  const lines = [
    `aggregated ${agg.experiments} experiments → ${summary}`,
    ...formatSequentialFractions(fits),
    `fits: ${fitCsv}`,
    ...(capacity && opts.slo
      ? [...formatCapacity(capacity.rows, opts.slo), `capacity: ${capacity.file}`]
      : []),
    `report: ${report.html}`,
  ];
  return { summary, fitCsv, report: report.html, fits, lines };
}
