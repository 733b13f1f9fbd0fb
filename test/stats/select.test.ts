/**
 * Percentiles by selection equal percentiles of the sorted values, exactly:
 * the summary's p50–p99 must not move in the last bit (property test).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quantileSorted } from "../../stats/quantile.ts";
import { Sample } from "../../stats/sample.ts";
import { selectRank } from "../../stats/select.ts";

const QS = [0, 0.5, 0.9, 0.95, 0.99, 1];
// Few distinct values too: runs of equal values are where partitions go wrong.
const values = fc.oneof(
  fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
  fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 300 }),
);

describe("Sample.quantiles by selection", () => {
  it("equals quantileSorted of the sorted values, bit for bit, also after more adds", () => {
    fc.assert(
      fc.property(values, values, (first, more) => {
        const sample = new Sample();
        for (const v of first) sample.add(v);
        const sorted = Float64Array.from(first).sort();
        expect(sample.quantiles(QS)).toEqual(QS.map((q) => quantileSorted(sorted, q)));
        for (const v of more) sample.add(v);
        const all = Float64Array.from([...first, ...more]).sort();
        expect(sample.quantiles(QS)).toEqual(QS.map((q) => quantileSorted(all, q)));
      }),
    );
  });

  it("selectRank partitions around the k-th smallest value", () => {
    fc.assert(
      fc.property(values, fc.nat(), (list, seed) => {
        const a = Float64Array.from(list);
        const k = seed % a.length;
        selectRank(a, 0, a.length, k);
        const kth = Float64Array.from(list).sort()[k];
        expect(a[k]).toBe(kth);
        expect(a.subarray(0, k).every((v) => v <= kth!)).toBe(true);
        expect(a.subarray(k + 1).every((v) => v >= kth!)).toBe(true);
      }),
    );
  });
});
