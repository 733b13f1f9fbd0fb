/**
 * The client-side figures of one experiment, accumulated request by request
 * (pure: no I/O). Definitions follow `vllm bench serve`: only requests that
 * finished inside the measurement window count. Throughput, errors and goodput
 * count every such request, also one sent during warm-up (in a steady state,
 * completions per second is the throughput; dropping them would bias it low
 * right after warm-up); latency distributions leave warm-up requests out, as
 * they were sent while the load was still ramping.
 */

import {
  ERROR_KINDS,
  LATENCY_METRICS,
  LATENCY_STATS,
  type LatencyMetric,
} from "../../formats/agg-tables.ts";
import type { RequestRecord } from "../../formats/request-record.ts";
import { Sample } from "./sample-stats.ts";

export interface Window {
  startUs: number;
  endUs: number;
}

export interface Slo {
  ttftMs: number;
  tpotMs: number;
}

export const DEFAULT_SLO: Slo = { ttftMs: 2000, tpotMs: 100 };

const PERCENTILES = [0.5, 0.9, 0.95, 0.99] as const;

/** A request counts for the window when it ended inside it. */
export function inWindow(record: RequestRecord, window: Window): boolean {
  return record.end_us >= window.startUs && record.end_us <= window.endUs;
}

export class RequestStats {
  private ok = 0;
  private failed = 0;
  private good = 0;
  private outputTokens = 0;
  private promptTokens = 0;
  private itlGapSum = 0;
  private itlGaps = 0;
  private readonly errors = new Map<string, number>(ERROR_KINDS.map((k) => [k, 0]));
  private readonly samples: Record<LatencyMetric, Sample> = {
    ttft_ms: new Sample(),
    tpot_ms: new Sample(),
    itl_ms: new Sample(),
    e2e_ms: new Sample(),
  };

  constructor(private readonly slo: Slo) {}

  /** Call only for in-window requests. */
  add(r: RequestRecord): void {
    if (!r.ok) {
      const kind = r.error_kind ?? "bad_payload";
      this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
      // A request the engine cancelled at the window's end is not a server failure.
      if (kind !== "cancelled") this.failed++;
      return;
    }
    this.ok++;
    this.outputTokens += r.output_tokens ?? 0;
    this.promptTokens += r.prompt_tokens ?? 0;
    if (
      r.ttft_ms !== null &&
      r.ttft_ms <= this.slo.ttftMs &&
      (r.tpot_ms === null || r.tpot_ms <= this.slo.tpotMs)
    ) {
      // Goodput (DistServe's definition, as in vllm bench serve): meets every SLO.
      // A single-token reply has no TPOT, so only TTFT can fail it.
      this.good++;
    }
    if (r.warmup) return;
    this.samples.ttft_ms.add(r.ttft_ms);
    this.samples.tpot_ms.add(r.tpot_ms);
    this.samples.e2e_ms.add(r.e2e_ms);
    this.samples.itl_ms.add(r.itl_mean_ms);
    if (r.itl_mean_ms !== null && r.output_tokens !== null && r.output_tokens > 1) {
      // n tokens have n−1 gaps: weighting the per-request means by them gives the mean of all gaps.
      this.itlGapSum += r.itl_mean_ms * (r.output_tokens - 1);
      this.itlGaps += r.output_tokens - 1;
    }
  }

  /** Summary columns for a window of `windowS` seconds (null when the window is empty). */
  finish(windowS: number | null): Record<string, number | null> {
    const perS = (x: number) => (windowS && windowS > 0 ? x / windowS : null);
    const finished = this.ok + this.failed;
    const out: Record<string, number | null> = {
      window_s: windowS,
      requests_ok: this.ok,
      requests_failed: this.failed,
      error_rate: finished > 0 ? this.failed / finished : null,
    };
    for (const [kind, n] of this.errors) out[`errors_${kind}`] = n;
    out.requests_per_s = perS(this.ok);
    out.output_tokens_per_s = perS(this.outputTokens);
    out.total_tokens_per_s = perS(this.outputTokens + this.promptTokens);
    for (const metric of LATENCY_METRICS) {
      const sample = this.samples[metric];
      const [p50, p90, p95, p99] = sample.percentiles(PERCENTILES);
      const stats = {
        mean:
          metric === "itl_ms"
            ? this.itlGaps > 0
              ? this.itlGapSum / this.itlGaps
              : null
            : sample.mean(),
        p50: p50 ?? null,
        p90: p90 ?? null,
        p95: p95 ?? null,
        p99: p99 ?? null,
      };
      for (const stat of LATENCY_STATS) out[`${metric}_${stat}`] = stats[stat];
    }
    out.goodput_requests_per_s = perS(this.good);
    out.goodput_fraction = finished > 0 ? this.good / finished : null;
    out.slo_ttft_ms = this.slo.ttftMs;
    out.slo_tpot_ms = this.slo.tpotMs;
    return out;
  }
}
