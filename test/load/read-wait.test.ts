/**
 * The guard's read wait: how long a socket read's bytes can have waited
 * before the engine stamped it. Real sockets through the engine's
 * pool: a server answers every connection in one go, so the client's loop
 * finds them all ready at once, and a handler that takes a known time per
 * read makes the last of them wait for all the others.
 */
import { type AddressInfo, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { nowMs } from "../../load/node/clock.ts";
import { Http1Pool } from "../../load/node/http1-pool.ts";
import { ReadWait, readWait } from "../../load/node/read-wait.ts";

let close: (() => void) | null = null;
afterEach(() => {
  close?.();
  readWait.stop();
});

/** Busy the thread for `ms`, as a parse of a large read would. */
function spin(ms: number): void {
  const until = nowMs() + ms;
  while (nowMs() < until);
}

describe("ReadWait", () => {
  it("counts each read of one poll phase from the phase's first read", () => {
    const w = new ReadWait();
    w.start();
    // One synchronous run stands for one poll phase: no check phase runs between these reads.
    for (let i = 0; i < 100; i++) w.read(1_000 + i * 0.2);
    // 100 waits: 0, 0.2, …, 19.8 ms; the p99 is the 99th smallest, 19.6 ms.
    expect(w.stop()).toBeCloseTo(19.6, 1);
    expect(w.stop()).toBeNull(); // stopped: nothing counted
  });

  it("after a busy turn of the loop counts from the phase before; after an idle poll, afresh", async () => {
    const w = new ReadWait();
    w.start();
    w.read(1_000);
    // The phase ends at the check phase; the loop turns without waiting in its poll.
    await new Promise((r) => setImmediate(r));
    w.read(1_030); // its bytes may have come any time since the read at 1,000
    expect(w.stop()).toBeCloseTo(30, 1);
    w.start();
    w.read(1_000);
    await new Promise((r) => setTimeout(r, 20)); // the poll waits idle: nothing was ready
    w.read(1_030);
    expect(w.stop()).toBeLessThan(0.01);
  });

  it("is null without reads, and counts nothing before start()", () => {
    const w = new ReadWait();
    w.read(1);
    w.start();
    expect(w.stop()).toBeNull();
  });

  it("sees ready sockets wait behind each other in the engine's pool", async () => {
    const STREAMS = 40;
    const PER_READ_MS = 1;
    const waiting: Socket[] = [];
    let release!: () => void;
    const allIn = new Promise<void>((r) => {
      release = r;
    });
    const s = createServer((socket) => {
      socket.once("data", () => {
        waiting.push(socket);
        if (waiting.length === STREAMS) release();
      });
    });
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    close = () => {
      for (const socket of waiting) socket.destroy();
      s.close();
    };
    const pool = new Http1Pool(`http://127.0.0.1:${(s.address() as AddressInfo).port}`, 1_000);
    let done = 0;
    const finished = new Promise<void>((resolve, reject) => {
      for (let i = 0; i < STREAMS; i++)
        pool.request(
          { path: "/", headers: {}, body: "{}" },
          {
            onHead: () => spin(PER_READ_MS),
            onBody() {},
            onComplete: () => {
              if (++done === STREAMS) resolve();
            },
            onError: reject,
          },
        );
    });
    await allIn;
    readWait.start();
    // Every answer is written before the client's loop turns again: one batch of ready sockets.
    for (const socket of waiting) socket.end("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    await finished;
    const p99 = readWait.stop();
    pool.destroy();
    // The last reads of the batch waited for the ~39 handled before them, 1 ms each; a stamp
    // taken per phase instead of per read, or a phase never ended, would read ~0 or grow without end.
    expect(p99).not.toBeNull();
    expect(p99!).toBeGreaterThan(STREAMS * PER_READ_MS * 0.5);
    expect(p99!).toBeLessThan(STREAMS * PER_READ_MS * 3);
  });
});
