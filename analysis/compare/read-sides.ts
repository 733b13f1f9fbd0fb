/**
 * One side of a comparison, read from raw results: every experiment under a
 * results directory (all its campaigns) or a campaign directory, keyed by its
 * factors; the repeats of one key are its runs, kept apart (the bootstrap
 * resamples runs). Records are read through formats/request-record.ts, the
 * window rule is stats/request-window.ts's; malformed lines are warned about
 * and skipped.
 */
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { DataError } from "../../common/errors.ts";
import { RAW_FILES } from "../../formats/raw-layout.ts";
import { RequestRecordSchema } from "../../formats/request-record.ts";
import { inWindow, sentInWindow, type Window } from "../../stats/request-window.ts";
import { readNdjson, type Warn } from "../aggregate/ndjson-lines.ts";
import { discoverExperiments, type RawExperiment } from "../aggregate/raw-experiments.ts";
import type { RunSample } from "./bootstrap-change.ts";

export interface Side {
  /** The path as given. */
  path: string;
  resultsDir: string;
  campaign: string | undefined;
  /** factor key → its runs (one per repeat) and the experiments behind them. */
  sets: Map<string, { factors: Record<string, unknown>; runs: RunSample[]; experiments: string[] }>;
}

/** Bins per window for the throughput block bootstrap: about a second each, 5 to 200. */
function binCount(windowS: number): number {
  return Math.min(200, Math.max(5, Math.round(windowS)));
}

/** `results/` (has raw/) or `results/raw/<campaign>` (has experiment folders). */
export function locateSide(path: string): { resultsDir: string; campaign: string | undefined } {
  if (existsSync(join(path, "raw"))) return { resultsDir: path, campaign: undefined };
  const parent = dirname(resolve(path));
  if (basename(parent) === "raw" && existsSync(path)) {
    return { resultsDir: dirname(parent), campaign: basename(path) };
  }
  throw new DataError(
    "is neither a results directory (with raw/) nor a campaign (results/raw/<name>)",
    {
      file: path,
    },
  );
}

/**
 * The factor key of an experiment: every factor, sorted, so YAML order never
 * matters. A sweep step's rate is measured, not chosen, so its step is the key.
 */
export function factorKey(factors: Record<string, unknown>): string {
  const sweep = factors.sweep_step !== undefined;
  return Object.keys(factors)
    .filter((k) => !(sweep && k === "rate"))
    .sort()
    .map((k) => `${k}=${String(factors[k])}`)
    .join(" ");
}

/**
 * One run's figures, or null when it has no window. Throughput counts every
 * ok completion in the window; latency every ok request sent in it (the
 * window rule's split, stats/request-window.ts).
 */
async function readRun(exp: RawExperiment, warn: Warn): Promise<RunSample | null> {
  const t = exp.info.times;
  if (t.window_start_us === null || t.window_end_us === null) {
    warn(`${exp.dir}: no measurement window recorded; experiment left out`);
    return null;
  }
  const window: Window = { startUs: t.window_start_us, endUs: t.window_end_us };
  const windowS = (window.endUs - window.startUs) / 1e6;
  const bins = binCount(windowS);
  const binTokens = new Array<number>(bins).fill(0);
  const file = join(exp.dir, RAW_FILES.requests);
  if (!existsSync(file)) {
    warn(`${file}: missing; experiment left out`);
    return null;
  }
  const run: RunSample = { ttftMs: [], tpotMs: [], e2eMs: [], outputTokensPerS: 0, binRates: [] };
  let tokens = 0;
  for await (const { row: r } of readNdjson(file, RequestRecordSchema, warn)) {
    if (!r.ok) continue;
    // Latency: every ok request sent in the window, however late it ended (the summary's rule,
    // stats/request-window.ts; the cool-down follows each to its end, so few are cut).
    if (sentInWindow(r, window)) {
      if (r.ttft_ms !== null) run.ttftMs.push(r.ttft_ms);
      if (r.tpot_ms !== null) run.tpotMs.push(r.tpot_ms);
      if (r.e2e_ms !== null) run.e2eMs.push(r.e2e_ms);
    }
    if (!inWindow(r, window)) continue;
    tokens += r.output_tokens ?? 0;
    const bin = Math.min(
      bins - 1,
      Math.floor(((r.end_us - window.startUs) / 1e6 / windowS) * bins),
    );
    binTokens[bin] = (binTokens[bin] as number) + (r.output_tokens ?? 0);
  }
  run.outputTokensPerS = tokens / windowS;
  for (const t of binTokens) run.binRates.push(t / (windowS / bins));
  return run;
}

export async function readSide(path: string, warn: Warn): Promise<Side> {
  const { resultsDir, campaign } = locateSide(path);
  const { experiments, skipped } = await discoverExperiments(resultsDir, {
    ...(campaign !== undefined ? { campaign } : {}),
  });
  for (const s of skipped) warn(`${s.id}: skipped (${s.reason})`);
  const sets: Side["sets"] = new Map();
  for (const exp of experiments) {
    if (exp.status.status !== "ok") {
      warn(`${exp.dir}: status ${exp.status.status}; left out of the comparison`);
      continue;
    }
    const key = factorKey(exp.info.factors);
    const run = await readRun(exp, warn);
    if (run === null) continue;
    const set = sets.get(key) ?? { factors: exp.info.factors, runs: [], experiments: [] };
    set.runs.push(run);
    set.experiments.push(`${exp.info.campaign}/${exp.info.experiment_id}`);
    sets.set(key, set);
  }
  return { path, resultsDir, campaign, sets };
}
