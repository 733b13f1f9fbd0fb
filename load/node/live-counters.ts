/**
 * Counters for a progress display, updated as requests finish. Rates are over
 * the current phase (warm-up, then the measured window) so the figure shown
 * during the window is the one the summary will report.
 */
import type { RequestRecord } from "../../formats/request-record.ts";
import { percentileSorted } from "../workload/timing.ts";

export interface LiveCounters {
  elapsedMs: number;
  inFlight: number;
  /** Finished successfully (whole run, warm-up included). */
  completed: number;
  /** Failed (errors of the server or the network). */
  failed: number;
  /** Still in flight when the window closed and cancelled by us: not an error. */
  cancelled: number;
  outputTokens: number;
  /** Successful requests per second finished in the current phase. */
  reqPerS: number;
  /** Output tokens per second finished in the current phase. */
  tokPerS: number;
  /** Median TTFT of the last few hundred requests; null before the first. */
  ttftP50Ms: number | null;
  inWarmup: boolean;
}

const TTFT_WINDOW = 512;

export class LiveCounterTracker {
  inFlight = 0;
  private completed = 0;
  private failed = 0;
  private cancelled = 0;
  private outputTokens = 0;
  private phaseCompleted = 0;
  private phaseTokens = 0;
  private phaseStartMs: number;
  private inWarmup: boolean;
  private readonly ttfts: number[] = [];
  private ttftNext = 0;

  constructor(
    private readonly startMs: number,
    warmupMs: number,
  ) {
    this.phaseStartMs = startMs;
    this.inWarmup = warmupMs > 0;
  }

  /** The measured window began: rates restart from zero. */
  enterWindow(atMs: number): void {
    this.inWarmup = false;
    this.phaseStartMs = atMs;
    this.phaseCompleted = 0;
    this.phaseTokens = 0;
  }

  onRecord(record: RequestRecord): void {
    if (!record.ok) {
      if (record.error_kind === "cancelled") this.cancelled++;
      else this.failed++;
      return;
    }
    this.completed++;
    const tokens = record.output_tokens ?? 0;
    this.outputTokens += tokens;
    // Counted when it finishes, like the summary's throughput, whenever it was sent.
    this.phaseCompleted++;
    this.phaseTokens += tokens;
    if (record.ttft_ms !== null) {
      if (this.ttfts.length < TTFT_WINDOW) this.ttfts.push(record.ttft_ms);
      else this.ttfts[this.ttftNext] = record.ttft_ms;
      this.ttftNext = (this.ttftNext + 1) % TTFT_WINDOW;
    }
  }

  snapshot(atMs: number): LiveCounters {
    const phaseS = Math.max(1e-3, (atMs - this.phaseStartMs) / 1000);
    const sorted = [...this.ttfts].sort((a, b) => a - b);
    return {
      elapsedMs: atMs - this.startMs,
      inFlight: this.inFlight,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      outputTokens: this.outputTokens,
      reqPerS: this.phaseCompleted / phaseS,
      tokPerS: this.phaseTokens / phaseS,
      ttftP50Ms: sorted.length > 0 ? percentileSorted(sorted, 50) : null,
      inWarmup: this.inWarmup,
    };
  }
}
