/**
 * When a latency statistic may be printed at all, and whether requests cut
 * before their end (censored) could move it. Pure, no Node APIs (k6 loads it).
 *
 * - Minimum sample: a statistic needs values from at least MIN_REQUESTS
 *   requests (below 20 the median's distribution-free 95% interval spans
 *   more than the sample's middle half), and the q-quantile needs at least
 *   1/(1 − q) values, so that one value is expected beyond it: p99 from 100,
 *   p50/p90/p95 from 20. Below, the statistic is null and flagged.
 * - Censoring: a request sent in the window and cut before it ended (the
 *   engine's cool-down cap, k6's hard stop, Ctrl-C) has an unknown value, at
 *   best a lower bound (its elapsed time). Counting it as +∞ places it above
 *   every value; the quantile is exact when the ranks it reads are observed
 *   values no larger than the smallest bound, since then the cut requests lie
 *   above them whatever their true values. Otherwise it is null and flagged.
 *   The mean has no such guarantee: any cut request nulls it.
 */

export const MIN_REQUESTS = 20;

/** The fewest values the q-quantile is read from. */
export function minValuesFor(q: number): number {
  // 1/(1 − 0.99) is 100.00000000000001 in floating point.
  return Math.max(MIN_REQUESTS, Math.ceil(1 / (1 - q) - 1e-9));
}

/**
 * The flags of one figure: statistics sharing a reason in one phrase,
 * `p90/p95/p99 null: 37 values < 100`.
 */
export function groupFlags(verdicts: ReadonlyArray<[string, string | null]>): string[] {
  const byReason = new Map<string, string[]>();
  for (const [name, reason] of verdicts) {
    if (reason === null) continue;
    byReason.set(reason, [...(byReason.get(reason) ?? []), name]);
  }
  return [...byReason].map(([reason, names]) => `${names.join("/")} null: ${reason}`);
}

/** What `Sample.quantilesAbove` reads for one quantile: the value and the larger rank's value. */
export interface QuantileRead {
  value: number;
  upper: number;
}

export interface CensoredSample {
  /** Values observed. */
  count: number;
  /** Requests the values came from (pooled ITL: many values per request). */
  requests: number;
  /** Requests cut before their end. */
  censored: number;
  /** The smallest lower bound among them (−∞ when a cut request's value has no bound). */
  minBound: number;
}

/** Why the q-quantile may not be printed, or null when it may. */
export function quantileVerdict(
  q: number,
  s: CensoredSample,
  read: QuantileRead | null,
): string | null {
  if (s.count === 0 && s.censored === 0) return null;
  const need = minValuesFor(q);
  if (s.requests < MIN_REQUESTS) return `${s.requests} requests < ${MIN_REQUESTS}`;
  if (s.count < need) return `${s.count} values < ${need}`;
  if (s.censored > 0 && (read === null || read.upper > s.minBound)) {
    return `${s.censored} requests cut before their end could lie below it`;
  }
  return null;
}

/** Why the mean may not be printed, or null when it may. */
export function meanVerdict(s: CensoredSample): string | null {
  if (s.count === 0 && s.censored === 0) return null;
  if (s.requests < MIN_REQUESTS) return `${s.requests} requests < ${MIN_REQUESTS}`;
  if (s.censored > 0) return `${s.censored} requests cut before their end`;
  return null;
}
