/**
 * Data parallelism: N independent replicas behind a least-loaded router, as
 * vLLM's DP coordinator balances by queued + running requests. Ties go to
 * the lowest index so routing is deterministic.
 */
export interface Loaded {
  load(): number;
}

export function pickLeastLoaded(replicas: readonly Loaded[]): number {
  let best = 0;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (let i = 0; i < replicas.length; i++) {
    const load = (replicas[i] as Loaded).load();
    if (load < bestLoad) {
      best = i;
      bestLoad = load;
    }
  }
  return best;
}
