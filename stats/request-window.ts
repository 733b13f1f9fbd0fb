/**
 * The one computation of a measured window's client-side figures from
 * per-request records. The live counters, `vscale load`'s summary and
 * aggregation's `summary.parquet` all call this module; nothing else counts
 * requests or takes their percentiles. Pure, no Node APIs (k6 can load it).
 *
 * The window rule (`docs/statistics.md`, `docs/load.md`):
 * - Throughput takes completions: a record counts when the request *ended*
 *   in [window start, window end), half-open, so back-to-back windows never
 *   count one request twice. Counts, throughput, tokens, errors and goodput
 *   take every such record, also those sent during warm-up: in a steady state
 *   completions per second is the throughput, and dropping them biases it low.
 * - Latency takes arrivals: every ok request *sent* in the window, followed
 *   to its end however late (the Node engine keeps the load going after the
 *   window until they have ended: a cool-down). Taking only requests that
 *   also ended in the window keeps the short ones and cuts the long ones.
 *   A request sent in the window and cut before its end (`cancelled`, or a
 *   `timeout`: the client stopped waiting) is censored; stats/sample-rule.ts
 *   says when a statistic survives it, and how many requests one needs.
 * - Without a recorded window (a crashed run) every record not sent during
 *   warm-up is in it, for both.
 * - `cancelled` (cut by the engine, or on Ctrl-C) is counted by kind but is
 *   never a failure; a failed record without a kind counts as `bad_payload`
 *   (the record itself is inconsistent).
 * - ITL pools every gap of every request (`vllm bench serve`'s
 *   `itls += output.itl`), so one stall per request shows in the p99; the
 *   per-request mean gap keeps its own distribution.
 * - Percentiles are exact, type 7 (numpy's default `linear`), `quantile.ts`.
 */
import { Sample } from "./sample.ts";
import { type CensoredSample, groupFlags, meanVerdict, quantileVerdict } from "./sample-rule.ts";

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

/** The throughput rule: ended inside [start, end); with no window, not sent during warm-up. */
export function inWindow(
  r: Pick<WindowRecord, "end_us" | "warmup">,
  window: Window | null,
): boolean {
  return window === null ? !r.warmup : r.end_us >= window.startUs && r.end_us < window.endUs;
}

/** The latency rule: sent inside [start, end); with no window, not sent during warm-up. */
export function sentInWindow(
  r: Pick<WindowRecord, "start_us" | "warmup">,
  window: Window | null,
): boolean {
  return window === null ? !r.warmup : r.start_us >= window.startUs && r.start_us < window.endUs;
}

export const PERCENTILES = [50, 90, 95, 99] as const;
export type Percentile = (typeof PERCENTILES)[number];

export interface Distribution {
  /** Values read: one per ok request sent in the window (ITL: every gap). */
  count: number;
  /** Requests the values came from. */
  requests: number;
  /** Requests sent in the window and cut before their end (censored). */
  censored: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  /** Why a statistic is null though requests were sent (too few, or cut ones could move it). */
  flags: string[];
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

/** A latency figure's values and what is known of its censored requests. */
class LatencySample {
  readonly values = new Sample();
  requests = 0;
  censored = 0;
  minBound = Number.POSITIVE_INFINITY;

  /** One request's value(s); null/empty: the request has none (no chunks seen, one token). */
  add(value: number | null | undefined): void {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    this.values.add(value);
    this.requests++;
  }

  addAll(values: ArrayLike<number> | null | undefined): void {
    if (!values || values.length === 0) return;
    this.values.addAll(values);
    this.requests++;
  }

  /** A request cut before its end; `bound`: a lower bound of its value (−∞ when none). */
  censor(bound: number): void {
    this.censored++;
    if (bound < this.minBound) this.minBound = bound;
  }
}

/** One window's full figures: counts plus latency samples and goodput; `figures()` any time. */
export class WindowStats extends WindowCounter {
  private good = 0;
  /** Ok records in the window that carry a TTFT: none means the engine could not measure it. */
  private okWithTtft = 0;
  private readonly samples: Record<LatencyFigure, LatencySample> = {
    ttftMs: new LatencySample(),
    tpotMs: new LatencySample(),
    itlMs: new LatencySample(),
    itlRequestMeanMs: new LatencySample(),
    e2eMs: new LatencySample(),
  };

  constructor(
    window: Window | null,
    readonly slo: Slo = DEFAULT_SLO,
  ) {
    super(window);
  }

  /** Counts `r` by both rules; true when the throughput rule took it (it ended in the window). */
  override add(r: WindowRecord, window: Window | null = this.window): boolean {
    const ended = super.add(r, window);
    if (ended && r.ok && r.ttft_ms !== null) {
      this.okWithTtft++;
      // A single-token reply has no TPOT, so only its TTFT can miss.
      if (r.ttft_ms <= this.slo.ttftMs && (r.tpot_ms === null || r.tpot_ms <= this.slo.tpotMs))
        this.good++;
    }
    if (!sentInWindow(r, window)) return ended;
    const s = this.samples;
    const outcome = outcomeOf(r);
    if (outcome === "ok") {
      s.ttftMs.add(r.ttft_ms);
      s.tpotMs.add(r.tpot_ms);
      s.e2eMs.add(r.e2e_ms);
      s.itlRequestMeanMs.add(r.itl_mean_ms);
      s.itlMs.addAll(r.itl_gaps_ms);
    } else if (outcome === "cancelled" || errorKindOf(r) === "timeout") {
      // Cut before its end (by us, or by its timeout): its E2E is at least the time it ran; its
      // TTFT is exact when the first token had come, else bounded the same way; its TPOT and
      // gaps to come are unknown. Dropping it would keep the fast requests only.
      const elapsed = r.e2e_ms ?? (r.end_us - r.start_us) / 1000;
      if (r.ttft_ms !== null) s.ttftMs.add(r.ttft_ms);
      else s.ttftMs.censor(elapsed);
      s.e2eMs.censor(elapsed);
      s.tpotMs.censor(Number.NEGATIVE_INFINITY);
      s.itlRequestMeanMs.censor(Number.NEGATIVE_INFINITY);
      s.itlMs.censor(Number.NEGATIVE_INFINITY);
    }
    return ended;
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

function distribution(sample: LatencySample): Distribution {
  const facts: CensoredSample = {
    count: sample.values.count,
    requests: sample.requests,
    censored: sample.censored,
    minBound: sample.minBound,
  };
  const verdicts: [string, string | null][] = [];
  const keep = (name: string, verdict: string | null, value: number | null): number | null => {
    verdicts.push([name, verdict]);
    return verdict === null ? value : null;
  };
  const reads = sample.values.quantilesAbove(
    PERCENTILES.map((p) => p / 100),
    sample.censored,
  );
  const [p50, p90, p95, p99] = PERCENTILES.map((p, i) => {
    const read = reads[i] ?? null;
    return keep(`p${p}`, quantileVerdict(p / 100, facts, read), read?.value ?? null);
  });
  const mean = keep("mean", meanVerdict(facts), sample.values.mean());
  return {
    count: facts.count,
    requests: facts.requests,
    censored: facts.censored,
    mean,
    p50: p50 ?? null,
    p90: p90 ?? null,
    p95: p95 ?? null,
    p99: p99 ?? null,
    flags: groupFlags(verdicts),
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
