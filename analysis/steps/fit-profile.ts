/**
 * Fit a step-time profile (formats/step-profile.ts) from measured steps.
 *
 * Execute time is fitted as a roofline of two linear parts: the launch floor
 * (a per-step constant for each measured shard size — kernel shapes differ per
 * shard, so eager-mode launch cost does too — plus per decoding sequence and
 * per attended context token, shared over TP) and the compute part of large
 * prefills (a constant, per prefill token that does not shrink with TP, and
 * per prefill token per GPU). Rows are assigned to the part that predicts the
 * larger time and the parts refitted until the assignment settles (a
 * max-affine fit). A single linear model over all terms is fitted too; the
 * one with the lower held-out error is kept. Rows are weighted by 1/y², so
 * every fit (schedule and update too) minimises relative error, which is what
 * the held-out MAPE scores and what multiplicative timing noise calls for.
 */
import { DataError } from "../../common/errors.ts";
import type {
  LinearPart,
  StepProfile,
  StepTerm,
  StepTermName,
} from "../../formats/step-profile.ts";
import { STEP_PROFILE_VERSION } from "../../formats/step-profile.ts";
import { fittedExecuteMs, termValue } from "../../sim/engine/fitted-cost.ts";
import { createRng } from "../../stats/rng.ts";
import type { StepFileFormat, StepRow } from "./read-steps.ts";
import { independentColumns, weightedLeastSquares } from "./regression.ts";

type TermKey = { name: StepTermName; tp?: number };

export interface FitStepsOptions {
  /** Held-out folds (default 5). */
  folds?: number;
  /** Seed of the fold assignment. */
  seed?: number;
  baseProfile: string;
  layers: number | null;
  files: { name: string; format: StepFileFormat; rows: number }[];
}

export interface FitStepsResult {
  profile: StepProfile;
  warnings: string[];
}

const MAX_ROUNDS = 50;
/** Starting splits tried by the roofline fit. */
const MAX_STARTS = 24;

function floorTerms(tpLevels: number[], withContext: boolean): TermKey[] {
  const terms: TermKey[] = tpLevels.map((tp) => ({ name: "step", tp }));
  terms.push({ name: "decode_seq_per_gpu" });
  if (withContext) terms.push({ name: "context_token_per_gpu" });
  return terms;
}

const COMPUTE_TERMS: TermKey[] = [
  { name: "step" },
  { name: "prefill_token" },
  { name: "prefill_token_per_gpu" },
];

/** Fit y on `terms` over `rows`; columns that add nothing (all zero, collinear) are left out. */
function fitPart(
  rows: readonly StepRow[],
  terms: readonly TermKey[],
  y: (row: StepRow) => number,
): LinearPart | null {
  const all = rows.map((row) => terms.map((term) => termValue(term, row.x)));
  const keep = independentColumns(all);
  if (keep.length === 0 || rows.length < keep.length) return null;
  const x = all.map((row) => keep.map((j) => row[j] as number));
  const ys = rows.map(y);
  // Relative error: weight 1/y² (a phase measured as 0 ms counts as 1 µs).
  const weights = ys.map((v) => 1 / Math.max(v, 1e-3) ** 2);
  const fit = weightedLeastSquares(x, ys, weights);
  const fitted: StepTerm[] = keep.map((j, k) => ({
    ...(terms[j] as TermKey),
    coef: fit.coef[k] as number,
    std_error: fit.stdError[k] ?? null,
    ci95: fit.ci95[k] ?? null,
  }));
  return { terms: fitted, rows: rows.length };
}

type Execute = StepProfile["execute"];

/** Σ relative squared error of a model over rows: what the weighted fits minimise. */
function relativeSse(model: Execute, rows: readonly StepRow[]): number {
  let sum = 0;
  for (const row of rows)
    sum += ((fittedExecuteMs({ execute: model }, row.x) - row.executeMs) / row.executeMs) ** 2;
  return sum;
}

/** Alternate assignment and refit from one starting split; null when a part cannot be fitted. */
function alternate(
  rows: readonly StepRow[],
  floor: readonly TermKey[],
  start: boolean[],
): Execute | null {
  let computeBound = start;
  let result: Execute | null = null;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const floorRows = rows.filter((_, i) => !computeBound[i]);
    const computeRows = rows.filter((_, i) => computeBound[i]);
    const floorPart = fitPart(floorRows, floor, (r) => r.executeMs);
    const computePart = fitPart(computeRows, COMPUTE_TERMS, (r) => r.executeMs);
    if (!floorPart || !computePart || computeRows.length <= computePart.terms.length) break;
    result = { floor: floorPart, compute: computePart };
    const next = rows.map(
      (row) =>
        fittedExecuteMs({ execute: { floor: null, compute: computePart } }, row.x) >
        fittedExecuteMs({ execute: { floor: floorPart, compute: null } }, row.x),
    );
    if (next.every((v, i) => v === computeBound[i])) break;
    computeBound = next;
  }
  return result;
}

/**
 * The roofline fit, or null when the rows do not support two parts. A
 * max-affine fit has local optima, so it starts from every split "prefills
 * with at least this many tokens per GPU are compute-bound" and keeps the one
 * with the least relative error.
 */
function fitRoofline(rows: readonly StepRow[], floor: readonly TermKey[]): Execute | null {
  const share = (row: StepRow) => row.x.prefillTokens / row.x.tp;
  const sorted = rows
    .filter((r) => r.x.prefillTokens > 0)
    .map(share)
    .sort((a, b) => a - b);
  // Every distinct share on a small grid; on a large file, its quantiles (the fit is per start).
  const step = Math.max(1, Math.floor(sorted.length / MAX_STARTS));
  const shares = [...new Set(sorted.filter((_, i) => i % step === 0))];
  let best: { model: Execute; sse: number } | null = null;
  for (const threshold of shares) {
    const model = alternate(
      rows,
      floor,
      rows.map((row) => row.x.prefillTokens > 0 && share(row) >= threshold),
    );
    if (!model) continue;
    const sse = relativeSse(model, rows);
    if (!best || sse < best.sse) best = { model, sse };
  }
  return best?.model ?? null;
}

function fitLinear(rows: readonly StepRow[], floor: readonly TermKey[]): Execute | null {
  const part = fitPart(rows, [...floor, ...COMPUTE_TERMS.slice(1)], (r) => r.executeMs);
  return part ? { floor: part, compute: null } : null;
}

/**
 * Folds stratified by TP and by step kind (with or without prefill tokens),
 * so every fold trains on every shard size and on both roofline regimes.
 */
function foldsOf(rows: readonly StepRow[], k: number, seed: number): number[] {
  const rng = createRng(seed, 0x57e9);
  const fold = new Array<number>(rows.length).fill(0);
  const byTp = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const stratum = `${row.x.tp}/${row.x.prefillTokens > 0}`;
    byTp.set(stratum, [...(byTp.get(stratum) ?? []), i]);
  });
  let offset = 0;
  for (const indices of byTp.values()) {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [indices[i], indices[j]] = [indices[j] as number, indices[i] as number];
    }
    indices.forEach((index, position) => {
      fold[index] = (position + offset) % k;
    });
    offset += indices.length;
  }
  return fold;
}

interface HeldOut {
  folds: number;
  rows: number;
  mape_pct: number;
  bias_pct: number;
}

function heldOut(
  rows: readonly StepRow[],
  k: number,
  seed: number,
  fitTrain: (train: readonly StepRow[]) => Execute | null,
): HeldOut | null {
  const fold = foldsOf(rows, k, seed);
  let ape = 0;
  let signed = 0;
  let n = 0;
  for (let f = 0; f < k; f++) {
    const model = fitTrain(rows.filter((_, i) => fold[i] !== f));
    if (!model) return null;
    rows.forEach((row, i) => {
      if (fold[i] !== f) return;
      const error = (fittedExecuteMs({ execute: model }, row.x) - row.executeMs) / row.executeMs;
      ape += Math.abs(error);
      signed += error;
      n++;
    });
  }
  return { folds: k, rows: n, mape_pct: (ape / n) * 100, bias_pct: (signed / n) * 100 };
}

export function fitStepProfile(rows: readonly StepRow[], options: FitStepsOptions): FitStepsResult {
  const warnings: string[] = [];
  const tpLevels = [...new Set(rows.map((r) => r.x.tp))].sort((a, b) => a - b);
  const withContext = rows.every((r) => r.contextKnown);
  if (!withContext)
    warnings.push(
      "context tokens are not in seed-000 or profilemate files: the per-context-token term is left out",
    );
  const floor = floorTerms(tpLevels, withContext);
  const k = Math.min(options.folds ?? 5, rows.length);
  const seed = options.seed ?? 0;
  const candidates = [fitRoofline, fitLinear]
    .map((fitter) => ({ fit: fitter, model: fitter(rows, floor) }))
    .filter((c): c is { fit: typeof fitRoofline; model: Execute } => c.model !== null);
  if (candidates.length === 0) {
    throw new DataError(
      `${rows.length} usable step rows are too few to fit ${floor.length + 2} terms`,
      { hint: "give more measured steps" },
    );
  }
  const scored = candidates.map((c) => ({
    ...c,
    held: k >= 2 ? heldOut(rows, k, seed, (train) => c.fit(train, floor)) : null,
  }));
  if (scored.every((c) => c.held === null))
    warnings.push("too few rows for a held-out error: none reported");
  const best = scored.reduce((a, b) =>
    (b.held?.mape_pct ?? Number.POSITIVE_INFINITY) < (a.held?.mape_pct ?? Number.POSITIVE_INFINITY)
      ? b
      : a,
  );
  const phaseRows = rows.filter((r) => r.scheduleMs !== null && r.updateMs !== null);
  const phaseTerms: TermKey[] = [{ name: "step" }, { name: "request" }];
  const profile: StepProfile = {
    schema_version: STEP_PROFILE_VERSION,
    kind: "vscale-step-profile",
    base_profile: options.baseProfile,
    source: { files: options.files, layers: options.layers },
    tp_levels: tpLevels,
    execute: best.model,
    schedule: fitPart(phaseRows, phaseTerms, (r) => r.scheduleMs as number),
    update: fitPart(phaseRows, phaseTerms, (r) => r.updateMs as number),
    held_out: best.held,
  };
  return { profile, warnings };
}
