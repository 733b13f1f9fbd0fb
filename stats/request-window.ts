/**
 * The one computation of a measured window's client-side figures from
 * per-request records. The live counters, `vscale load`'s summary and
 * aggregation's `summary.parquet` all call this module; nothing else counts
 * requests or takes their percentiles. Pure, no Node APIs (k6 can load it).
 *
 * The window rule (README "Definitions", `docs/load.md`), as `vllm bench serve`:
 * - A record is *in the window* when the request ended in
 *   [window start, window end): half-open, so back-to-back windows never count
 *   one request twice. Without a recorded window (a crashed run) every record
 *   not sent during warm-up is in it.
 * - Counts, throughput, tokens, errors and goodput take every record in the
 *   window, also those sent during warm-up: in a steady state completions per
 *   second is the throughput, and dropping them biases it low.
 * - Latency figures take the ok records in the window that were not sent
 *   during warm-up (they met a load still ramping up).
 * - `cancelled` (cut by the engine when the window closed, or on Ctrl-C) is
 *   counted by kind but is never a failure; a failed record without a kind
 *   counts as `bad_payload` (the record itself is inconsistent).
 * - ITL pools every gap of every request (`vllm bench serve`'s
 *   `itls += output.itl`), so one stall per request shows in the p99; the
 *   per-request mean gap keeps its own distribution.
 * - Percentiles are exact, type 7 (numpy's default `linear`), `quantile.ts`.
 */
import { Sample } from "./sample.ts";

/** The fields this module reads; `formats/request-record.ts` RequestRecord fits it. */
export interface WindowRecord {
  start_us: number;
  end_us: number;
  ok: boolean;
  warmup: boolean;
  error_kind: string | null;
  ttft_ms: number | null;
  tpot_ms: number | null;
  e2e_ms: number | null;
  itl_mean_ms: number | null;
  /** Every inter-token gap (ms); null or absent when the engine could not see chunks. */
  itl_gaps_ms?: ArrayLike<number> | null;
  prompt_tokens: number | null;
  output_tokens: number | null;
}

/** µs since the epoch; the end is excluded. */
export interface Window {
  startUs: number;
  endUs: number;
}

/** Service-level objectives for goodput (DistServe's definition, as `vllm bench serve --goodput`). */
export interface Slo {
  ttftMs: number;
  tpotMs: number;
}

export const DEFAULT_SLO: Slo = { ttftMs: 2000, tpotMs: 100 };

export type Outcome = "ok" | "failed" | "cancelled";

/** The kind a failed record counts under. */
export function errorKindOf(r: WindowRecord): string {
  return r.error_kind ?? "bad_payload";
}

export function outcomeOf(r: WindowRecord): Outcome {
  if (r.ok) return "ok";
  return errorKindOf(r) === "cancelled" ? "cancelled" : "failed";
}

/** The window rule: ended inside [start, end); with no window, not sent during warm-up. */
export function inWindow(
  r: Pick<WindowRecord, "end_us" | "warmup">,
  window: Window | null,
): boolean {
  return window === null ? !r.warmup : r.end_us >= window.startUs && r.end_us < window.endUs;
}

export const PERCENTILES = [50, 90, 95, 99] as const;
export type Percentile = (typeof PERCENTILES)[number];

export interface Distribution {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

export const LATENCY_FIGURES = ["ttftMs", "tpotMs", "itlMs", "itlRequestMeanMs", "e2eMs"] as const;
export type LatencyFigure = (typeof LATENCY_FIGURES)[number];

export interface WindowCounts {
  ok: number;
  failed: number;
  cancelled: number;
  outputTokens: number;
  promptTokens: number;
}

export interface WindowFigures {
  /** Window length (s); null when unknown (no window and no span of requests). */
  windowS: number | null;
  requestsOk: number;
  /** Cancelled excluded. */
  requestsFailed: number;
  requestsCancelled: number;
  /** Records in the window by error kind, `cancelled` included; only kinds seen. */
  errors: Record<string, number>;
  /** requestsFailed / (requestsOk + requestsFailed); null when none finished. */
  errorRate: number | null;
  reqPerS: number | null;
  outputTokPerS: number | null;
  totalTokPerS: number | null;
  /** TTFT, TPOT, pooled ITL (every gap), per-request mean ITL, E2E. */
  latency: Record<LatencyFigure, Distribution>;
  /** Ok requests meeting both SLOs, per second; null when the engine measured no TTFT (plain k6). */
  goodputReqPerS: number | null;
  /** Those requests / (requestsOk + requestsFailed); null likewise, or when none finished. */
  goodputFraction: number | null;
  slo: Slo;
}

/**
 * Counts one window's records by the window rule (no samples kept: the live
 * display reads it four times a second for hours).
 */
export class WindowCounter {
  protected readonly counts: WindowCounts = {
    ok: 0,
    failed: 0,
    cancelled: 0,
    outputTokens: 0,
    promptTokens: 0,
  };
  protected readonly errors: Record<string, number> = {};
  private firstStart = Number.POSITIVE_INFINITY;
  private lastEnd = Number.NEGATIVE_INFINITY;

  constructor(readonly window: Window | null) {}

  /**
   * Counts `r` when the window rule takes it; true when it did. `window`: the
   * record's own window when it differs (a segment's: load/segments.ts).
   */
  add(r: WindowRecord, window: Window | null = this.window): boolean {
    if (!inWindow(r, window)) return false;
    if (r.start_us < this.firstStart) this.firstStart = r.start_us;
    if (r.end_us > this.lastEnd) this.lastEnd = r.end_us;
    const outcome = outcomeOf(r);
    if (outcome === "ok") {
      this.counts.ok++;
      this.counts.outputTokens += r.output_tokens ?? 0;
      this.counts.promptTokens += r.prompt_tokens ?? 0;
    } else {
      const kind = errorKindOf(r);
      this.errors[kind] = (this.errors[kind] ?? 0) + 1;
      this.counts[outcome]++;
    }
    return true;
  }

  get windowCounts(): Readonly<WindowCounts> {
    return this.counts;
  }

  /** Earliest start and latest end of the records taken (±Infinity when none). */
  get span(): { firstStartUs: number; lastEndUs: number } {
    return { firstStartUs: this.firstStart, lastEndUs: this.lastEnd };
  }

  /** The window's length: as recorded, else the span of the records taken. */
  defaultWindowS(): number | null {
    if (this.window) return (this.window.endUs - this.window.startUs) / 1e6;
    return this.lastEnd > this.firstStart ? (this.lastEnd - this.firstStart) / 1e6 : null;
  }
}

/** One window's full figures: counts plus latency samples and goodput; `figures()` any time. */
export class WindowStats extends WindowCounter {
  private good = 0;
  /** Ok records in the window that carry a TTFT: none means the engine could not measure it. */
  private okWithTtft = 0;
  private readonly samples: Record<LatencyFigure, Sample> = {
    ttftMs: new Sample(),
    tpotMs: new Sample(),
    itlMs: new Sample(),
    itlRequestMeanMs: new Sample(),
    e2eMs: new Sample(),
  };

  constructor(
    window: Window | null,
    readonly slo: Slo = DEFAULT_SLO,
  ) {
    super(window);
  }

  override add(r: WindowRecord, window: Window | null = this.window): boolean {
    if (!super.add(r, window)) return false;
    if (!r.ok) return true;
    if (r.ttft_ms !== null) {
      this.okWithTtft++;
      // A single-token reply has no TPOT, so only its TTFT can miss.
      if (r.ttft_ms <= this.slo.ttftMs && (r.tpot_ms === null || r.tpot_ms <= this.slo.tpotMs))
        this.good++;
    }
    if (r.warmup) return true;
    const s = this.samples;
    s.ttftMs.add(r.ttft_ms);
    s.tpotMs.add(r.tpot_ms);
    s.e2eMs.add(r.e2e_ms);
    s.itlRequestMeanMs.add(r.itl_mean_ms);
    if (r.itl_gaps_ms) s.itlMs.addAll(r.itl_gaps_ms);
    return true;
  }

  figures(windowS: number | null = this.defaultWindowS()): WindowFigures {
    const c = this.counts;
    const perS = (x: number) => (windowS !== null && windowS > 0 ? x / windowS : null);
    const finished = c.ok + c.failed;
    const goodMeasured = c.ok === 0 || this.okWithTtft > 0;
    const latency = {} as Record<LatencyFigure, Distribution>;
    for (const name of LATENCY_FIGURES) latency[name] = distribution(this.samples[name]);
    return {
      windowS,
      requestsOk: c.ok,
      requestsFailed: c.failed,
      requestsCancelled: c.cancelled,
      errors: { ...this.errors },
      errorRate: finished > 0 ? c.failed / finished : null,
      reqPerS: perS(c.ok),
      outputTokPerS: perS(c.outputTokens),
      totalTokPerS: perS(c.outputTokens + c.promptTokens),
      latency,
      goodputReqPerS: goodMeasured ? perS(this.good) : null,
      goodputFraction: goodMeasured && finished > 0 ? this.good / finished : null,
      slo: this.slo,
    };
  }
}

function distribution(sample: Sample): Distribution {
  const [p50, p90, p95, p99] = sample.quantiles(PERCENTILES.map((p) => p / 100));
  return {
    count: sample.count,
    mean: sample.mean(),
    p50: p50 ?? null,
    p90: p90 ?? null,
    p95: p95 ?? null,
    p99: p99 ?? null,
  };
}

/** One window's figures from records (any iterable). */
export function windowFigures(
  records: Iterable<WindowRecord>,
  window: Window | null,
  slo: Slo = DEFAULT_SLO,
): WindowFigures {
  const stats = new WindowStats(window, slo);
  for (const r of records) stats.add(r);
  return stats.figures();
}
