/**
 * Counters for a progress display, updated as requests finish. Rates are the
 * current phase's (warm-up, then the measured window), counted by the window
 * rule of `stats/request-window.ts` (the phase is a window open at its end),
 * so the figure shown during the window is the one the summary will report.
 */
import type { RequestRecord } from "../../formats/request-record.ts";
import { quantileSorted } from "../../stats/quantile.ts";
import { outcomeOf, WindowCounter } from "../../stats/request-window.ts";
import { epochUs } from "./clock.ts";

export interface LiveCounters {
  elapsedMs: number;
  inFlight: number;
  /** Finished successfully (whole run, warm-up included). */
  completed: number;
  /** Failed (errors of the server or the network). */
  failed: number;
  /** Cut by us (in flight at the cool-down's end, or Ctrl-C): not an error. */
  cancelled: number;
  outputTokens: number;
  /** Successful requests per second finished in the current phase. */
  reqPerS: number;
  /** Output tokens per second finished in the current phase. */
  tokPerS: number;
  /** Median TTFT of the last few hundred ok requests (a display figure); null before the first. */
  ttftP50Ms: number | null;
  inWarmup: boolean;
}

/** The live TTFT is over the most recent requests, so it follows changes during a run. */
const TTFT_RECENT = 512;

export class LiveCounterTracker {
  inFlight = 0;
  private readonly totals = { ok: 0, failed: 0, cancelled: 0 };
  private outputTokens = 0;
  private phase: WindowCounter;
  private phaseStartMs: number;
  private inWarmup: boolean;
  private readonly ttfts: number[] = [];
  private ttftNext = 0;

  constructor(
    private readonly startMs: number,
    warmupMs: number,
  ) {
    this.phaseStartMs = startMs;
    this.phase = LiveCounterTracker.phaseFrom(startMs);
    this.inWarmup = warmupMs > 0;
  }

  private static phaseFrom(atMs: number): WindowCounter {
    return new WindowCounter({ startUs: epochUs(atMs), endUs: Number.POSITIVE_INFINITY });
  }

  /** The measured window began: rates restart from zero. */
  enterWindow(atMs: number): void {
    this.inWarmup = false;
    this.phaseStartMs = atMs;
    this.phase = LiveCounterTracker.phaseFrom(atMs);
  }

  onRecord(record: RequestRecord): void {
    this.totals[outcomeOf(record)]++;
    this.phase.add(record);
    if (!record.ok) return;
    this.outputTokens += record.output_tokens ?? 0;
    if (record.ttft_ms !== null) {
      if (this.ttfts.length < TTFT_RECENT) this.ttfts.push(record.ttft_ms);
      else this.ttfts[this.ttftNext] = record.ttft_ms;
      this.ttftNext = (this.ttftNext + 1) % TTFT_RECENT;
    }
  }

  snapshot(atMs: number): LiveCounters {
    const phaseS = Math.max(1e-3, (atMs - this.phaseStartMs) / 1000);
    const sorted = [...this.ttfts].sort((a, b) => a - b);
    const phase = this.phase.windowCounts;
    return {
      elapsedMs: atMs - this.startMs,
      inFlight: this.inFlight,
      completed: this.totals.ok,
      failed: this.totals.failed,
      cancelled: this.totals.cancelled,
      outputTokens: this.outputTokens,
      reqPerS: phase.ok / phaseS,
      tokPerS: phase.outputTokens / phaseS,
      ttftP50Ms: sorted.length > 0 ? quantileSorted(sorted, 0.5) : null,
      inWarmup: this.inWarmup,
    };
  }
}

/**
 * Several workers' counters as one: counts and rates add up (every worker's
 * phase starts at the same instant); the TTFT shown is the median of the
 * workers' medians, a display figure only (the summary's TTFT comes from
 * every record).
 */
export function mergeCounters(parts: readonly LiveCounters[], elapsedMs: number): LiveCounters {
  const sum = (pick: (c: LiveCounters) => number) => parts.reduce((a, c) => a + pick(c), 0);
  const ttfts = parts
    .map((c) => c.ttftP50Ms)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  return {
    elapsedMs,
    inFlight: sum((c) => c.inFlight),
    completed: sum((c) => c.completed),
    failed: sum((c) => c.failed),
    cancelled: sum((c) => c.cancelled),
    outputTokens: sum((c) => c.outputTokens),
    reqPerS: sum((c) => c.reqPerS),
    tokPerS: sum((c) => c.tokPerS),
    ttftP50Ms: ttfts.length > 0 ? quantileSorted(ttfts, 0.5) : null,
    inWarmup: parts.some((c) => c.inWarmup),
  };
}
