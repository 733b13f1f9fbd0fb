/**
 * How long a socket read's bytes can have waited before the engine stamped
 * them: behind the reads of its poll phase, and behind the rest of a busy
 * loop's turn. libuv hands the loop every socket that is ready in one batch,
 * and the engine stamps each read when its callback runs: when the loop has
 * hundreds of streams ready at once, the last is stamped after all the others
 * were parsed, and its TTFT or token gap is late by that much. The event-loop
 * delay monitor misses it (a timer is late only when a phase outlasts the
 * monitor's interval, and it samples once per interval, not once per read),
 * so a loaded worker can read 3 ms of loop delay while its TTFT error p99 is
 * 19 ms (docs/load.md, "The saturation guard").
 *
 * A read's wait counts from the earliest its bytes can have arrived. When the
 * loop waited idle in the poll before this phase, nothing was ready then, so
 * the bytes came as the poll returned: the phase's first read. When it did
 * not (a busy loop polls and finds sockets already ready), they may have come
 * at any time since the previous phase began, while the loop was busy
 * elsewhere: the wait counts from that phase's first read, an upper bound,
 * as a guard needs (the lower one, from this phase's first read, measured
 * half the client read delay the server's stamps give: docs/load.md). The
 * phase ends at the next check phase (`setImmediate`), which runs only once
 * the poll phase is done.
 */
import { createHistogram, performance, type RecordableHistogram } from "node:perf_hooks";

/** Idle time (ms) below which a poll counts as having found sockets ready at once. */
const IDLE_EPSILON_MS = 0.05;

export class ReadWait {
  private hist: RecordableHistogram | null = null;
  /** Whether a poll phase with reads is under way (until its check phase). */
  private inPhase = false;
  /** The earliest the bytes of this phase's reads can have arrived (ms). */
  private originMs = 0;
  /** The first read of the phase before (ms), or -1 before any. */
  private lastPhaseMs = -1;
  /** The loop's idle time (ms) when the last phase began. */
  private lastIdleMs = 0;
  private readonly endPhase = (): void => {
    this.inPhase = false;
  };

  /** Count reads from now on, forgetting any counted before. */
  start(): void {
    this.hist = createHistogram();
    this.inPhase = false;
    this.lastPhaseMs = -1;
  }

  /** A socket read stamped `atMs` (the engine's monotonic clock) is being handled. */
  read(atMs: number): void {
    const hist = this.hist;
    if (hist === null) return;
    if (!this.inPhase) {
      this.inPhase = true;
      setImmediate(this.endPhase);
      const idleMs = performance.eventLoopUtilization().idle;
      const waited = idleMs - this.lastIdleMs > IDLE_EPSILON_MS;
      this.originMs = waited || this.lastPhaseMs < 0 ? atMs : this.lastPhaseMs;
      this.lastIdleMs = idleMs;
      this.lastPhaseMs = atMs;
    }
    // The histogram takes whole numbers ≥ 1: microseconds.
    hist.record(Math.max(1, Math.round((atMs - this.originMs) * 1000)));
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
