/**
 * One request on the engine's own HTTP/1.1 connections (`http1-pool.ts`):
 * body bytes are timestamped in the socket's data callback itself, with no
 * stream layer in between, so TTFT and ITL carry as little of our own
 * overhead as possible.
 */
import type { ErrorKind } from "../../formats/request-record.ts";
import type { ApiKind } from "../workload/bodies.ts";
import { type ResponseOutcome, ResponseTracker } from "../workload/response-tracker.ts";
import { nowMs } from "./clock.ts";
import type { ResponseHead } from "./http1-parser.ts";
import type { Exchange, ExchangeHandler, Http1Pool } from "./http1-pool.ts";

export interface ClientRequest {
  pool: Http1Pool;
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
  if (!headersReceived && codes.some((c) => CONNECT_CODES.has(c)))
    return { kind: "connect", message };
  if (codes.includes("ECONNRESET") || codes.includes("EPIPE")) return { kind: "reset", message };
  // The peer closed mid-body (FIN without the last chunk): the answer was cut short.
  if (headersReceived) return { kind: "truncated", message };
  return { kind: "reset", message };
}

/**
 * Body bytes → text for the tracker. An SSE read ends in a line end, so it
 * never cuts a UTF-8 sequence: such a read is decoded on its own
 * (`Buffer#toString`, several times cheaper than a streaming TextDecoder
 * call); a read ending inside a multi-byte character (last byte ≥ 0x80)
 * goes through the streaming decoder, and so does the next one, which
 * completes it.
 */
class BodyDecoder {
  private readonly decoder = new TextDecoder();
  private carrying = false;

  decode(bytes: Buffer): string {
    const endsMidChar = (bytes[bytes.length - 1] ?? 0) >= 0x80;
    if (!this.carrying && !endsMidChar) return bytes.toString("utf8");
    this.carrying = endsMidChar;
    return this.decoder.decode(bytes, { stream: true });
  }

  flush(): string {
    return this.carrying ? this.decoder.decode() : "";
  }
}

/**
 * One request from send to outcome. A class, not closures: a load worker
 * starts thousands of these a second, and methods on the prototype cost no
 * allocation (nor tsx's keep-names wrapper) per request.
 */
class StreamedRequest implements InFlightRequest, ExchangeHandler {
  readonly sendMs: number;
  readonly done: Promise<ResponseOutcome>;
  private readonly tracker: ResponseTracker;
  private readonly decoder = new BodyDecoder();
  private resolveDone!: (outcome: ResponseOutcome) => void;
  private readonly timer: NodeJS.Timeout;
  private exchange: Exchange | null = null;

  constructor(req: ClientRequest) {
    this.tracker = new ResponseTracker(req.api, req.stream);
    this.done = new Promise<ResponseOutcome>((resolve) => {
      this.resolveDone = resolve;
    });
    this.sendMs = nowMs();
    this.timer = setTimeout(
      () => this.cancel("timeout", `no complete answer within ${req.timeoutMs} ms`),
      req.timeoutMs,
    );
    try {
      this.exchange = req.pool.request(req, this);
    } catch (error) {
      const { kind, message } = classifySocketError(error, false);
      this.tracker.onFailure(kind, message, nowMs());
      this.finish();
    }
  }

  cancel(kind: ErrorKind, message: string): void {
    if (this.tracker.finished) return;
    this.tracker.onFailure(kind, message, nowMs());
    this.exchange?.abort(this);
    this.finish();
  }

  onHead(head: ResponseHead): void {
    this.tracker.onHeaders(head.status, head.contentType);
  }

  onBody(bytes: Buffer, atMs: number): void {
    this.tracker.onData(this.decoder.decode(bytes), atMs);
  }

  onComplete(atMs: number): void {
    if (this.tracker.finished) return;
    const rest = this.decoder.flush();
    if (rest !== "") this.tracker.onData(rest, atMs);
    this.tracker.onEnd(atMs);
    this.finish();
  }

  onError(error: Error, headersReceived: boolean, atMs: number): void {
    if (this.tracker.finished) return;
    const { kind, message } = classifySocketError(error, headersReceived);
    this.tracker.onFailure(kind, message, atMs);
    this.finish();
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.resolveDone(this.tracker.outcome());
  }
}

export function sendRequest(req: ClientRequest): InFlightRequest {
  return new StreamedRequest(req);
}
