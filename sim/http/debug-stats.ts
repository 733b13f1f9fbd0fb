/**
 * `GET /sim/stats`: the simulator's own health figures, which no vLLM route
 * exposes. Step lateness (actual − scheduled step end) tells whether the
 * process keeps up with the simulated GPU: when it does not, throughput
 * flattens and the planted law is biased. `POST /sim/stats/reset` starts a
 * new window (a benchmark drops its warm-up this way).
 */
import { quantileSorted } from "../../stats/quantile.ts";

export interface SimStatsWindow {
  /** Steps completed in the window, across replicas. */
  steps: number;
  /** Output tokens produced in the window. */
  generationTokens: number;
  /** Seconds since the window started. */
  seconds: number;
}

export interface SimStatsBody extends SimStatsWindow {
  activeRequests: number;
  /** Quantiles of step lateness in ms over the window's most recent samples (NaN → null). */
  jitterMs: {
    count: number;
    p50: number | null;
    p90: number | null;
    p99: number | null;
    max: number | null;
  };
}

export function simStatsBody(
  window: SimStatsWindow,
  activeRequests: number,
  jitterSamplesMs: number[],
): SimStatsBody {
  const sorted = Float64Array.from(jitterSamplesMs).sort();
  const q = (p: number) => (sorted.length === 0 ? null : quantileSorted(sorted, p));
  return {
    ...window,
    activeRequests,
    jitterMs: {
      count: sorted.length,
      p50: q(0.5),
      p90: q(0.9),
      p99: q(0.99),
      max: sorted.length === 0 ? null : (sorted[sorted.length - 1] as number),
    },
  };
}
