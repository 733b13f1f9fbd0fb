/**
 * One clock for the Node engine: `performance.now()` is monotonic with
 * sub-millisecond resolution (durations never jump with NTP), and
 * `timeOrigin + now()` gives the wall-clock epoch time records carry.
 */
import { performance } from "node:perf_hooks";

export const nowMs = (): number => performance.now();

/** Monotonic ms → µs since the Unix epoch. */
export function epochUs(monotonicMs: number): number {
  return Math.round((performance.timeOrigin + monotonicMs) * 1000);
}

/** Epoch ms → this thread's monotonic ms (each worker thread has its own time origin). */
export function monotonicFromEpochMs(epochMs: number): number {
  return epochMs - performance.timeOrigin;
}

let batchMs: number | null = null;
const endBatch = () => {
  batchMs = null;
};

/**
 * When the socket reads of this event-loop turn became ready: the time of the
 * turn's first read, shared by every read of the same poll phase (a
 * setImmediate, which runs right after the poll phase, ends the batch). One
 * epoll wait reports every socket that has bytes; reading them one after
 * another takes a few microseconds each, so at hundreds of streams whose
 * tokens arrive in the same millisecond, the now() of the n-th read would
 * charge the n-th stream with the n − 1 reads before it. Bytes that arrive
 * while the batch is being read are stamped at its start: early by at most
 * the batch's length, where now() is late by as much for every stream behind.
 */
export function readBatchNowMs(): number {
  if (batchMs === null) {
    batchMs = nowMs();
    setImmediate(endBatch);
  }
  return batchMs;
}
