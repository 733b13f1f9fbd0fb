/**
 * Order statistics without a full sort: `selectRank` moves the k-th smallest
 * value of `a[lo..hi)` to `a[k]`, with every value before it no larger and
 * every value after it no smaller (C++'s `nth_element`). Percentiles need
 * two ranks each, so selecting them costs O(n) where a sort costs
 * O(n log n): at 1M request records sorting was the largest cost of
 * aggregation's JavaScript (bench/aggregate.ts, `node --cpu-prof`).
 */
export function selectRank(a: Float64Array, lo: number, hi: number, k: number): void {
  let left = lo;
  let right = hi - 1;
  while (right > left) {
    // Median of three as pivot: sorted or reversed input stays linear.
    const mid = left + ((right - left) >> 1);
    const pivot = median3(a[left]!, a[mid]!, a[right]!);
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[left..j] ≤ pivot ≤ a[i..right], and a[j+1..i-1] equal the pivot.
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

function median3(x: number, y: number, z: number): number {
  if (x < y) return y < z ? y : x < z ? z : x;
  return x < z ? x : y < z ? z : y;
}
