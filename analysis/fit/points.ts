/**
 * A scaling point: one experiment (one repeat) at GPU count `n` with measured
 * throughput `x`. Every fit takes these; repeats are separate points.
 */
export interface ScalingPoint {
  n: number;
  x: number;
}

export interface CleanPoints {
  points: ScalingPoint[];
  /** Points dropped because N or X was not a finite positive number (NaN, zero throughput). */
  dropped: number;
  distinctN: number[];
}

/** Keep points a throughput model can explain: finite N ≥ 1 and finite X > 0. */
export function cleanPoints(points: readonly ScalingPoint[]): CleanPoints {
  const kept = points.filter(
    (p) => Number.isFinite(p.n) && p.n >= 1 && Number.isFinite(p.x) && p.x > 0,
  );
  const distinctN = [...new Set(kept.map((p) => p.n))].sort((a, b) => a - b);
  return { points: kept, dropped: points.length - kept.length, distinctN };
}

/** Mean throughput per distinct N, ascending N. */
export function meansByN(
  points: readonly ScalingPoint[],
): { n: number; x: number; count: number }[] {
  const sums = new Map<number, { sum: number; count: number }>();
  for (const p of points) {
    const entry = sums.get(p.n) ?? { sum: 0, count: 0 };
    entry.sum += p.x;
    entry.count += 1;
    sums.set(p.n, entry);
  }
  return [...sums.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([n, { sum, count }]) => ({ n, x: sum / count, count }));
}

/**
 * A scale to divide throughput by before fitting, so parameters are O(1) and
 * the optimiser's tolerances mean the same for tokens/s and requests/s.
 */
export function throughputScale(points: readonly ScalingPoint[]): number {
  const first = meansByN(points)[0];
  return first ? first.x / first.n : 1;
}

export interface GoodnessOfFit {
  sse: number;
  r2: number;
  rmse: number;
}

export function goodnessOfFit(
  points: readonly ScalingPoint[],
  predict: (n: number) => number,
): GoodnessOfFit {
  const mean = points.reduce((acc, p) => acc + p.x, 0) / points.length;
  let sse = 0;
  let sst = 0;
  for (const p of points) {
    sse += (p.x - predict(p.n)) ** 2;
    sst += (p.x - mean) ** 2;
  }
  return { sse, r2: sst > 0 ? 1 - sse / sst : Number.NaN, rmse: Math.sqrt(sse / points.length) };
}
