/**
 * Least squares with coefficient standard errors and 95% intervals, through
 * ml-regression-multivariate-linear (the ml.js family the fits already use:
 * SVD-based, reports `stdErrors`). Two things it does not do are added here:
 * row weights (rows are scaled by √w, the textbook reduction of weighted to
 * ordinary least squares) and column scaling (each column divided by its
 * largest magnitude before the solve, so terms of 1 and of 10⁶ context tokens
 * do not make XᵀX ill-conditioned; coefficients are scaled back after).
 */
import MultivariateLinearRegression from "ml-regression-multivariate-linear";
import { tCritical95 } from "../../stats/quantile.ts";

export interface LinearFit {
  coef: number[];
  /** null when the fit has no residual degrees of freedom. */
  stdError: (number | null)[];
  ci95: ([number, number] | null)[];
  df: number;
}

/** Weighted least squares of y on the columns of x (no implicit intercept). */
export function weightedLeastSquares(
  x: readonly (readonly number[])[],
  y: readonly number[],
  weights: readonly number[],
): LinearFit {
  const columns = x[0]?.length ?? 0;
  const scale = Array.from({ length: columns }, (_, j) => {
    let max = 0;
    for (const row of x) max = Math.max(max, Math.abs(row[j] as number));
    return max > 0 ? max : 1;
  });
  const root = weights.map((w) => Math.sqrt(w));
  const xs = x.map((row, i) => row.map((v, j) => (v / (scale[j] as number)) * (root[i] as number)));
  const ys = y.map((v, i) => [v * (root[i] as number)]);
  const model = new MultivariateLinearRegression(xs, ys, { intercept: false, statistics: true });
  const df = y.length - columns;
  const t = df >= 1 ? tCritical95(df) : Number.NaN;
  const coef = model.weights.map((w, j) => (w[0] as number) / (scale[j] as number));
  const stdError = model.stdErrors.map((se, j) =>
    df >= 1 && Number.isFinite(se) ? se / (scale[j] as number) : null,
  );
  const ci95 = coef.map((c, j): [number, number] | null => {
    const se = stdError[j];
    return se === null || se === undefined ? null : [c - t * se, c + t * se];
  });
  return { coef, stdError, ci95, df };
}

/** Rank of a matrix's columns (Gram–Schmidt on scaled columns): which columns add information. */
export function independentColumns(x: readonly (readonly number[])[]): number[] {
  const kept: number[][] = [];
  const keep: number[] = [];
  const columns = x[0]?.length ?? 0;
  for (let j = 0; j < columns; j++) {
    let v = x.map((row) => row[j] as number);
    const norm0 = Math.hypot(...v);
    if (norm0 === 0) continue;
    v = v.map((e) => e / norm0);
    for (const u of kept) {
      const dot = v.reduce((s, e, i) => s + e * (u[i] as number), 0);
      v = v.map((e, i) => e - dot * (u[i] as number));
    }
    const norm = Math.hypot(...v);
    if (norm < 1e-9) continue;
    kept.push(v.map((e) => e / norm));
    keep.push(j);
  }
  return keep;
}
