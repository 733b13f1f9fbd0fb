/**
 * One request over undici's low-level dispatch API: body chunks are
 * timestamped in the socket's data callback itself, with no stream layer in
 * between, so TTFT and ITL carry as little of our own overhead as possible.
 */
import type { Dispatcher } from "undici";
import type { ErrorKind } from "../../formats/request-record.ts";
import type { ApiKind } from "../workload/bodies.ts";
import { type ResponseOutcome, ResponseTracker } from "../workload/response-tracker.ts";
import { nowMs } from "./clock.ts";

export interface ClientRequest {
  dispatcher: Dispatcher;
  path: string;
  headers: Record<string, string>;
  body: string;
  api: ApiKind;
  stream: boolean;
  timeoutMs: number;
}

export interface InFlightRequest {
  /** Monotonic send time (ms). */
  readonly sendMs: number;
  /** Resolves once the outcome is final; never rejects. */
  readonly done: Promise<ResponseOutcome>;
  /** Stop it now and record `kind` (`cancelled` at the window's end, say). */
  cancel(kind: ErrorKind, message: string): void;
}

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CONNECT",
]);

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** Which kind of failure a socket-level error is, given how far the exchange got. */
export function classifySocketError(
  error: unknown,
  headersReceived: boolean,
): { kind: ErrorKind; message: string } {
  const codes = errorCodes(error);
  const text = error instanceof Error ? error.message : String(error);
  const message = `${codes[0] ?? "error"}: ${text}`.slice(0, 200);
  if (codes.some((c) => c === "UND_ERR_HEADERS_TIMEOUT" || c === "UND_ERR_BODY_TIMEOUT")) {
    return { kind: "timeout", message };
  }
  if (!headersReceived && codes.some((c) => CONNECT_CODES.has(c)))
    return { kind: "connect", message };
  if (codes.includes("ECONNRESET") || codes.includes("EPIPE")) return { kind: "reset", message };
  // The peer closed mid-body (FIN without the last chunk): the answer was cut short.
  if (headersReceived) return { kind: "truncated", message };
  return { kind: "reset", message };
}

export function sendRequest(req: ClientRequest): InFlightRequest {
  const tracker = new ResponseTracker(req.api, req.stream);
  const decoder = new TextDecoder();
  let controller: Dispatcher.DispatchController | null = null;
  let pendingAbort: Error | null = null;
  let resolveDone!: (outcome: ResponseOutcome) => void;
  const done = new Promise<ResponseOutcome>((resolve) => {
    resolveDone = resolve;
  });
  let timer: NodeJS.Timeout | undefined;

  const finish = () => {
    if (timer) clearTimeout(timer);
    resolveDone(tracker.outcome());
  };

  const cancel = (kind: ErrorKind, message: string) => {
    if (tracker.finished) return;
    tracker.onFailure(kind, message, nowMs());
    const reason = new Error(message);
    if (controller) controller.abort(reason);
    else pendingAbort = reason;
    finish();
  };

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(ctrl) {
      controller = ctrl;
      if (pendingAbort) ctrl.abort(pendingAbort);
    },
    onResponseStart(_ctrl, statusCode, headers) {
      const type = headers["content-type"];
      tracker.onHeaders(statusCode, Array.isArray(type) ? type[0] : type);
    },
    onResponseData(_ctrl, chunk) {
      const at = nowMs();
      tracker.onData(decoder.decode(chunk, { stream: true }), at);
    },
    onResponseEnd() {
      const at = nowMs();
      if (tracker.finished) return;
      tracker.onData(decoder.decode(), at);
      tracker.onEnd(at);
      finish();
    },
    onResponseError(_ctrl, error) {
      if (tracker.finished) return;
      const { kind, message } = classifySocketError(error, tracker.headersReceived);
      tracker.onFailure(kind, message, nowMs());
      finish();
    },
  };

  const sendMs = nowMs();
  timer = setTimeout(
    () => cancel("timeout", `no complete answer within ${req.timeoutMs} ms`),
    req.timeoutMs,
  );
  try {
    req.dispatcher.dispatch(
      { path: req.path, method: "POST", headers: req.headers, body: req.body, blocking: true },
      handler,
    );
  } catch (error) {
    const { kind, message } = classifySocketError(error, false);
    tracker.onFailure(kind, message, nowMs());
    finish();
  }
  return { sendMs, done, cancel };
}
