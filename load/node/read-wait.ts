/**
 * How long a socket read waits behind the reads handled before it in the same
 * poll phase. libuv hands the loop every socket that is ready in one batch,
 * and the engine stamps each read when its callback runs: when the loop has
 * hundreds of streams ready at once, the last is stamped after all the others
 * were parsed, and its TTFT or token gap is late by that much. The event-loop
 * delay monitor misses it (a timer is late only when a phase outlasts the
 * monitor's interval, and it samples once per interval, not once per read),
 * so a loaded worker can read 3 ms of loop delay while its TTFT error p99 is
 * 19 ms (docs/load.md, "The saturation guard").
 *
 * A read's wait is its stamp minus the stamp of the phase's first read; the
 * phase ends at the next check phase (`setImmediate`), which runs only once
 * the poll phase is done. A lower bound of what the read waited: every socket
 * of one batch was ready before the first of them was handled.
 */
import { createHistogram, type RecordableHistogram } from "node:perf_hooks";

export class ReadWait {
  private hist: RecordableHistogram | null = null;
  /** The stamp of this poll phase's first read (ms), or -1 between phases. */
  private phaseFirstMs = -1;
  private readonly endPhase = (): void => {
    this.phaseFirstMs = -1;
  };

  /** Count reads from now on, forgetting any counted before. */
  start(): void {
    this.hist = createHistogram();
    this.phaseFirstMs = -1;
  }

  /** A socket read stamped `atMs` (the engine's monotonic clock) is being handled. */
  read(atMs: number): void {
    const hist = this.hist;
    if (hist === null) return;
    if (this.phaseFirstMs < 0) {
      this.phaseFirstMs = atMs;
      setImmediate(this.endPhase);
    }
    // The histogram takes whole numbers ≥ 1: microseconds.
    hist.record(Math.max(1, Math.round((atMs - this.phaseFirstMs) * 1000)));
  }

  /** p99 of the reads' waits since start() (ms), or null with no read; counting stops. */
  stop(): number | null {
    const hist = this.hist;
    this.hist = null;
    if (hist === null || hist.count === 0) return null;
    return Math.round(hist.percentile(99)) / 1000;
  }
}

/** The thread's one instance: each worker thread loads its own copy of this module. */
export const readWait = new ReadWait();
