/**
 * An experiment's client-side summary columns: the window figures of
 * `stats/request-window.ts` (the one computation, shared with `vscale load`
 * and the live counters) under the column names of `formats/agg-tables.ts`.
 */

import {
  ERROR_KINDS,
  LATENCY_METRICS,
  LATENCY_STATS,
  type LatencyMetric,
} from "../../formats/agg-tables.ts";
import {
  DEFAULT_SLO,
  type LatencyFigure,
  type Slo,
  type Window,
  type WindowRecord,
  WindowStats,
} from "../../stats/request-window.ts";

export { DEFAULT_SLO, type Slo, type Window };

const FIGURE_OF: Record<LatencyMetric, LatencyFigure> = {
  ttft_ms: "ttftMs",
  tpot_ms: "tpotMs",
  itl_ms: "itlMs",
  itl_request_mean_ms: "itlRequestMeanMs",
  e2e_ms: "e2eMs",
};

export class RequestStats {
  private stats: WindowStats | null = null;

  constructor(private readonly slo: Slo) {}

  /** Adds the record when the window rule takes it (true): the experiment's window, or its segment's. */
  add(r: WindowRecord, window: Window | null): boolean {
    this.stats ??= new WindowStats(window, this.slo);
    return this.stats.add(r, window);
  }

  /** Earliest start and latest end of the records taken (±Infinity when none). */
  get span(): { firstStartUs: number; lastEndUs: number } {
    return (
      this.stats?.span ?? {
        firstStartUs: Number.POSITIVE_INFINITY,
        lastEndUs: Number.NEGATIVE_INFINITY,
      }
    );
  }

  /** Summary columns for a window of `windowS` seconds (null when the window is empty). */
  finish(windowS: number | null): Record<string, number | string | null> {
    const f = (this.stats ?? new WindowStats(null, this.slo)).figures(windowS);
    const out: Record<string, number | string | null> = {
      window_s: f.windowS,
      requests_ok: f.requestsOk,
      requests_failed: f.requestsFailed,
      error_rate: f.errorRate,
    };
    for (const kind of ERROR_KINDS) out[`errors_${kind}`] = f.errors[kind] ?? 0;
    out.requests_per_s = f.reqPerS;
    out.output_tokens_per_s = f.outputTokPerS;
    out.total_tokens_per_s = f.totalTokPerS;
    const flags: string[] = [];
    let censored = 0;
    for (const metric of LATENCY_METRICS) {
      const d = f.latency[FIGURE_OF[metric]];
      for (const stat of LATENCY_STATS) out[`${metric}_${stat}`] = d[stat];
      out[`${metric}_n`] = d.count;
      // Every figure sees the same cut requests; E2E's count is the experiment's.
      if (metric === "e2e_ms") censored = d.censored;
      for (const flag of d.flags) flags.push(`${metric} ${flag}`);
    }
    out.latency_censored = censored;
    out.goodput_requests_per_s = f.goodputReqPerS;
    out.goodput_fraction = f.goodputFraction;
    out.slo_ttft_ms = f.slo.ttftMs;
    out.slo_tpot_ms = f.slo.tpotMs;
    out.latency_flags = flags.length > 0 ? flags.join("; ") : null;
    return out;
  }
}
