/**
 * Was a failed k6 request cut by the end of the window? k6 stops a
 * scenario's in-flight iterations when its duration (plus a 0 s graceful
 * stop) runs out, and reports the HTTP call as a timeout (k6 v1.3: error
 * code 1050). A request that failed at the window's end before our own
 * timeout could fire was cancelled by us, as the Node engine records it, not
 * a server that timed out. Pure (no k6 import).
 */

/** Timers and k6's stop are a few ms apart; a genuine timeout is `timeoutMs` long. */
const CUT_SLACK_MS = 50;

export const CUT_MESSAGE = "still in flight when the window closed";

export function cutAtWindowEnd(args: {
  /** Epoch ms of the send and of the failure. */
  startMs: number;
  failedMs: number;
  /** Epoch ms when the scenario's duration ends (warm-up + window after its start). */
  windowEndMs: number;
  timeoutMs: number;
}): boolean {
  const elapsed = args.failedMs - args.startMs;
  return (
    args.failedMs >= args.windowEndMs - CUT_SLACK_MS && elapsed < args.timeoutMs - CUT_SLACK_MS
  );
}
