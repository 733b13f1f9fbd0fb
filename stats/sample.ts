/**
 * Mean and exact percentiles of a growing sample of numbers. Values live in a
 * Float64Array (8 bytes each), so memory is bounded by one window's values.
 * No Node APIs: k6 can load this file.
 */
import { quantileSorted } from "./quantile.ts";

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

  /** Quantiles (each in [0, 1]) of the values so far; null for an empty sample. */
  quantiles(qs: readonly number[]): (number | null)[] {
    if (this.n === 0) return qs.map(() => null);
    // Sorted in place: a sample has no order, so later adds stay correct.
    const sorted = this.values.subarray(0, this.n).sort();
    return qs.map((q) => quantileSorted(sorted, q));
  }
}
