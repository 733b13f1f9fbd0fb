/**
 * Mean and percentiles of a growing sample. Percentiles use simple-statistics'
 * `quantileSorted`: linear interpolation between order statistics (type 7 in
 * R, numpy's default), over exact values (no histogram approximation).
 * Values live in a Float64Array, 8 bytes each, so memory is bounded by one
 * experiment's in-window requests.
 */
import { quantileSorted } from "simple-statistics";

export class Sample {
  private values = new Float64Array(256);
  private n = 0;
  private sum = 0;

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

  get count(): number {
    return this.n;
  }

  mean(): number | null {
    return this.n === 0 ? null : this.sum / this.n;
  }

  /** Sorted view; call once, after the last `add`. */
  percentiles(ps: readonly number[]): (number | null)[] {
    if (this.n === 0) return ps.map(() => null);
    const sorted = this.values.subarray(0, this.n).sort();
    // quantileSorted only indexes its argument, so a typed array serves.
    return ps.map((p) => quantileSorted(sorted as unknown as number[], p));
  }
}
