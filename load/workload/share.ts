/**
 * Disjoint shares of one schedule, the idea of k6's execution segments: a
 * share `{index, count}` owns closed-loop users `u` with `u mod count =
 * index` and open-loop arrivals `i` with `i mod count = index`. Every share
 * numbers its slots as the whole run does, so a request's id, prompt and
 * seed (`request-plan.ts`) and an arrival's time (`arrivals.ts`) are the same
 * whichever share sends it: N shares together are exactly the whole run.
 * Segments (machines) and workers (threads) compose into one finer share.
 */

export interface Share {
  /** 0-based. */
  index: number;
  count: number;
}

export const WHOLE: Share = { index: 0, count: 1 };

export function ownsSlot(share: Share, slot: number): boolean {
  return slot % share.count === share.index;
}

/**
 * Worker `worker` of `workers` inside a segment: the segment's slots
 * (`≡ segment.index mod segment.count`) dealt round-robin to its workers.
 */
export function workerShare(segment: Share, worker: number, workers: number): Share {
  return { index: segment.index + segment.count * worker, count: segment.count * workers };
}

/** How many of `total` slots (0 … total − 1) a share owns. */
export function slotsOwned(share: Share, total: number): number {
  return total > share.index ? Math.ceil((total - share.index) / share.count) : 0;
}

/**
 * A share's part of a cap on requests in flight (open loop `max_concurrency`):
 * the cap split as evenly as whole numbers allow, every share at least 1.
 */
export function capShare(cap: number, share: Share): number {
  return Math.max(1, slotsOwned(share, cap));
}

/** `i/N` (0 ≤ i < N) → a share, or a message saying what was expected. */
export function parseSegment(text: string): Share | string {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) return `expected i/N such as 0/4, got "${text}"`;
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) return `expected N ≥ 1, got "${text}"`;
  if (index >= count) return `expected 0 ≤ i < N, got "${text}"`;
  return { index, count };
}
