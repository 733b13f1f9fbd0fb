/** Linear-interpolation quantile (type 7: numpy's default `linear`, R's default, simple-statistics' `quantileSorted`) of an already sorted array; q in [0, 1]. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const [lower, upper] = quantileRanks(n, q);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * ((n - 1) * q - lower);
}

/** The two ranks (0-based) `quantileSorted` reads for quantile q of n > 0 values: all it needs in place. */
export function quantileRanks(n: number, q: number): [number, number] {
  const lower = Math.floor((n - 1) * q);
  return [lower, Math.min(lower + 1, n - 1)];
}

/**
 * Two-sided Student-t critical value t_{ν, 1-α/2} for α = 0.05, by table and
 * interpolation in 1/ν (accurate to ~1e-3, enough to widen an interval).
 */
export function tCritical95(df: number): number {
  if (!(df >= 1)) return Number.NaN;
  const table: [number, number][] = [
    [1, 12.706],
    [2, 4.303],
    [3, 3.182],
    [4, 2.776],
    [5, 2.571],
    [6, 2.447],
    [7, 2.365],
    [8, 2.306],
    [9, 2.262],
    [10, 2.228],
    [12, 2.179],
    [15, 2.131],
    [20, 2.086],
    [30, 2.042],
    [60, 2.0],
    [120, 1.98],
    [Number.POSITIVE_INFINITY, 1.96],
  ];
  for (let i = 0; i < table.length - 1; i++) {
    const [d0, t0] = table[i] as [number, number];
    const [d1, t1] = table[i + 1] as [number, number];
    if (df === d0) return t0;
    if (df < d1) {
      const x0 = 1 / d0;
      const x1 = d1 === Number.POSITIVE_INFINITY ? 0 : 1 / d1;
      return t0 + ((1 / df - x0) / (x1 - x0)) * (t1 - t0);
    }
  }
  return 1.96;
}
