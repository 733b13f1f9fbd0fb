/**
 * Mean and exact percentiles of a growing sample of numbers. Values live in a
 * Float64Array (8 bytes each), so memory is bounded by one window's values.
 * No Node APIs: k6 can load this file.
 */
import { quantileRanks, quantileSorted } from "./quantile.ts";
import type { QuantileRead } from "./sample-rule.ts";
import { selectRank } from "./select.ts";

export class Sample {
  private values = new Float64Array(256);
  private n = 0;
  private sum = 0;

  /** Null, undefined and non-finite values are not observations: they are skipped. */
  add(value: number | null | undefined): void {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = value;
    this.sum += value;
  }

  addAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.add(values[i]);
  }

  get count(): number {
    return this.n;
  }

  mean(): number | null {
    return this.n === 0 ? null : this.sum / this.n;
  }

  /**
   * Quantiles (each in [0, 1]) of the values so far, type 7 as
   * `quantileSorted`; null for an empty sample. Only the ranks the
   * interpolation reads are put in place (`selectRank`), in ascending order
   * so each selection works on what the previous one left above it.
   */
  quantiles(qs: readonly number[]): (number | null)[] {
    const n = this.n;
    if (n === 0) return qs.map(() => null);
    // Reordered in place: a sample has no order, so later adds stay correct.
    const a = this.values.subarray(0, n);
    const ranks = [...new Set(qs.flatMap((q) => quantileRanks(n, q)))].sort((x, y) => x - y);
    let from = 0;
    for (const k of ranks) {
      selectRank(a, from, n, k);
      from = k + 1;
    }
    // Every rank quantileSorted reads holds its sorted value.
    return qs.map((q) => quantileSorted(a, q));
  }

  /**
   * Quantiles as if `above` more values lay above every value held (requests
   * cut before their end: stats/sample-rule.ts). Null where a rank read falls
   * among those unknown values; else the type 7 value over n + above values
   * and the larger rank's value, which the caller compares with their bound.
   */
  quantilesAbove(qs: readonly number[], above: number): (QuantileRead | null)[] {
    if (this.n === 0) return qs.map(() => null);
    const total = this.n + above;
    const ranks = qs.map((q) => quantileRanks(total, q));
    const wanted = [...new Set(ranks.flat().filter((k) => k < this.n))].sort((x, y) => x - y);
    const a = this.values.subarray(0, this.n);
    let from = 0;
    for (const k of wanted) {
      selectRank(a, from, this.n, k);
      from = k + 1;
    }
    return qs.map((q, i) => {
      const [lo, hi] = ranks[i] as [number, number];
      if (hi >= this.n) return null;
      const x = a[lo] as number;
      const y = a[hi] as number;
      return { value: x + (y - x) * ((total - 1) * q - lo), upper: y };
    });
  }
}
