import { describe, expect, it } from "vitest";
import { type Flushable, StreamFlusher } from "../../sim/http/stream-flusher.ts";

const turn = () => new Promise<void>((done) => setImmediate(done));

function writer(log: number[], id: number): Flushable {
  return {
    queued: false,
    flush: () => {
      log.push(id);
    },
  };
}

describe("StreamFlusher", () => {
  it("flushes every queued writer once, in order, across several event-loop turns", async () => {
    const flusher = new StreamFlusher();
    const log: number[] = [];
    const writers = Array.from({ length: 500 }, (_, i) => writer(log, i));
    for (const w of writers) flusher.enqueue(w);
    // Queued again before its turn: still one flush (its new output joins the same write).
    flusher.enqueue(writers[3] as Flushable);
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
    }, 0);
    await turn();
    // One slice, not the whole queue: the loop gets control back between slices.
    expect(log.length).toBeGreaterThan(0);
    expect(log.length).toBeLessThan(500);
    for (let i = 0; i < 100 && flusher.pending > 0; i++) await turn();
    expect(log).toEqual(writers.map((_, i) => i));
    expect(timerRan).toBe(true);
    expect(writers.every((w) => !w.queued)).toBe(true);
  });

  it("a writer queued during a flush pass is flushed again later", async () => {
    const flusher = new StreamFlusher();
    let flushes = 0;
    const w: Flushable = {
      queued: false,
      flush: () => {
        flushes++;
        if (flushes === 1) flusher.enqueue(w);
      },
    };
    flusher.enqueue(w);
    for (let i = 0; i < 5; i++) await turn();
    expect(flushes).toBe(2);
  });
});
