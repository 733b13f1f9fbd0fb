/**
 * Writes buffered stream output to sockets in small slices, so that one
 * step's writes to thousands of sockets never hold the event loop long enough
 * to make the next step late. A writer with output is queued once; what it
 * gets before its turn joins the same write. So a process that cannot write
 * every stream once per step sends two steps' tokens in one write (still one
 * SSE event per token) instead of stretching the simulated steps.
 */

export interface Flushable {
  /** Set by the flusher while the writer waits in its queue. */
  queued: boolean;
  /** Send everything buffered (one socket write). */
  flush(): void;
}

/**
 * How long one slice may hold the event loop. A slice's socket writes happen after
 * it, when Node uncorks the sockets (process.nextTick), and cost 5–25 µs each, mostly
 * in the kernel; so a slice is sized by a running estimate of the cost per writer,
 * measured from one slice's start to the next's.
 */
const SLICE_TARGET_MS = 0.5;
const MIN_WRITES_PER_SLICE = 4;
const MAX_WRITES_PER_SLICE = 512;

export class StreamFlusher {
  private queue: Flushable[] = [];
  private head = 0;
  private scheduled: NodeJS.Immediate | undefined;
  /** Estimated ms per flushed writer, everything included. */
  private msPerWrite = 0.02;
  /** Start and size of the previous slice while a pass is in progress. */
  private sliceStartMs = 0;
  private sliceWrites = 0;

  enqueue(writer: Flushable): void {
    if (writer.queued) return;
    writer.queued = true;
    this.queue.push(writer);
    this.scheduled ??= setImmediate(this.run);
  }

  /** Writers waiting for their turn. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  stop(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  /** Writers to flush in the next slice. */
  get sliceSize(): number {
    return Math.max(
      MIN_WRITES_PER_SLICE,
      Math.min(MAX_WRITES_PER_SLICE, Math.floor(SLICE_TARGET_MS / this.msPerWrite)),
    );
  }

  private readonly run = (): void => {
    this.scheduled = undefined;
    const startMs = performance.now();
    if (this.sliceWrites > 0) {
      // Other work between slices (a step's handling) inflates a sample: the average
      // forgets it quickly, and a sample is capped so one stall cannot starve the writes.
      const sample = Math.min(1, (startMs - this.sliceStartMs) / this.sliceWrites);
      this.msPerWrite = 0.8 * this.msPerWrite + 0.2 * sample;
    }
    const end = Math.min(this.queue.length, this.head + this.sliceSize);
    this.sliceStartMs = startMs;
    this.sliceWrites = end - this.head;
    while (this.head < end) {
      const writer = this.queue[this.head++] as Flushable;
      writer.queued = false;
      writer.flush();
    }
    if (this.head < this.queue.length) {
      // Under sustained load the queue may never drain: drop its done part now and then.
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      // Yield: timers (the next step) and socket reads run before the next slice.
      this.scheduled = setImmediate(this.run);
    } else {
      this.queue = [];
      this.head = 0;
      // The time until the next pass is idle time, not write cost.
      this.sliceWrites = 0;
    }
  };
}
