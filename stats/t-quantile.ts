/**
 * Two-sided 95% Student-t critical values t(0.975, df), for intervals from a
 * handful of repeats. No library we use has the inverse t CDF
 * (simple-statistics offers the t statistic, not its quantiles), and the
 * table is short: values from any statistics table, df ≥ 31 interpolated on
 * 1/df towards the normal 1.960.
 */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

export function tCritical975(df: number): number {
  if (!(df >= 1)) return Number.NaN;
  const d = Math.floor(df);
  if (d <= T975.length) return T975[d - 1] as number;
  // Between df = 30 (2.042) and ∞ (1.960), linear in 1/df.
  return 1.96 + (2.042 - 1.96) * (30 / d);
}

/** Mean and 95% t-interval of a small sample; the interval is null below two values. */
export function meanInterval(values: readonly number[]): {
  mean: number;
  low: number | null;
  high: number | null;
} {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, low: null, high: null };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = tCritical975(n - 1) * (sd / Math.sqrt(n));
  return { mean, low: mean - half, high: mean + half };
}
