/**
 * Latency figures of one request from its monotonic timestamps (ms), with
 * vLLM's benchmark definitions (`vllm bench serve`):
 *   TTFT = send → first chunk carrying generated text;
 *   ITL  = gaps between consecutive text chunks;
 *   TPOT = (E2E − TTFT) / (output tokens − 1);
 *   E2E  = send → end of the response.
 * Per-request percentiles use the one quantile (`stats/quantile.ts`, type 7).
 */
import { quantileSorted } from "../../stats/quantile.ts";

export interface ItlSummary {
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface RequestLatency {
  ttftMs: number | null;
  e2eMs: number;
  itl: ItlSummary | null;
  /** Every gap between text chunks, in order; null when no text arrived. */
  gapsMs: number[] | null;
  tpotMs: number | null;
}

export function summarizeItl(gapsMs: readonly number[]): ItlSummary | null {
  if (gapsMs.length === 0) return null;
  const sorted = [...gapsMs].sort((x, y) => x - y);
  let sum = 0;
  for (const g of sorted) sum += g;
  return {
    meanMs: sum / sorted.length,
    p50Ms: quantileSorted(sorted, 0.5),
    p90Ms: quantileSorted(sorted, 0.9),
    p99Ms: quantileSorted(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] as number,
  };
}

/**
 * `textTimesMs`: arrival time of every chunk that carried generated text.
 * `outputTokens`: from `usage` when the server sent it, else the chunk count.
 */
export function computeLatency(
  sendMs: number,
  endMs: number,
  textTimesMs: readonly number[],
  outputTokens: number | null,
): RequestLatency {
  const e2eMs = Math.max(0, endMs - sendMs);
  if (textTimesMs.length === 0)
    return { ttftMs: null, e2eMs, itl: null, gapsMs: null, tpotMs: null };
  const ttftMs = Math.max(0, (textTimesMs[0] as number) - sendMs);
  const gaps: number[] = [];
  for (let i = 1; i < textTimesMs.length; i++) {
    gaps.push((textTimesMs[i] as number) - (textTimesMs[i - 1] as number));
  }
  const tpotMs =
    outputTokens !== null && outputTokens > 1
      ? Math.max(0, e2eMs - ttftMs) / (outputTokens - 1)
      : null;
  return { ttftMs, e2eMs, itl: summarizeItl(gaps), gapsMs: gaps, tpotMs };
}
