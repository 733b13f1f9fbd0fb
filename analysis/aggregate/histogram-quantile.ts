/**
 * Quantiles from Prometheus histogram buckets, as PromQL's
 * `histogram_quantile` computes them: find the bucket holding rank q·total and
 * interpolate linearly inside it, assuming observations spread evenly between
 * its bounds; the lowest bucket starts at 0; a rank in the +Inf bucket
 * returns the highest finite bound.
 */
import type { Histogram } from "./prometheus-text.ts";

/**
 * after − before, bucket by bucket. The caller has checked that the scrapes
 * bracket one server process (server-figures.ts): across a restart there is
 * no delta to take.
 */
export function histogramDelta(before: Histogram, after: Histogram): Histogram {
  const prior = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (prior.get(b.le) ?? 0) })),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

export function histogramQuantile(q: number, h: Histogram): number | null {
  const buckets = h.buckets;
  const last = buckets[buckets.length - 1];
  if (!last || last.le !== Number.POSITIVE_INFINITY || buckets.length < 2) return null;
  const total = last.count;
  if (total <= 0) return null;
  const rank = q * total;
  let i = buckets.findIndex((b) => b.count >= rank);
  if (i === -1) i = buckets.length - 1;
  if (i === buckets.length - 1) return buckets[buckets.length - 2]!.le;
  const bucket = buckets[i]!;
  if (i === 0 && bucket.le <= 0) return bucket.le;
  const lower = i === 0 ? 0 : buckets[i - 1]!.le;
  const below = i === 0 ? 0 : buckets[i - 1]!.count;
  const inBucket = bucket.count - below;
  if (inBucket <= 0) return bucket.le;
  return lower + (bucket.le - lower) * ((rank - below) / inBucket);
}

export function histogramMean(h: Histogram): number | null {
  return h.count > 0 ? h.sum / h.count : null;
}
