/**
 * Follows one response from headers to end and decides its outcome: text
 * chunk times, usage, finish reason, and which error kind (if any) it ended in.
 * Engines feed it what the socket delivered and when; it does no I/O.
 */
import type { ErrorKind } from "../../formats/request-record.ts";
import type { ApiKind } from "./bodies.ts";
import {
  isPlainTextChunk,
  parseBufferedResponse,
  parseStreamPayload,
  type Usage,
} from "./openai-stream.ts";
import { SseParser } from "./sse.ts";

/** Error bodies are kept only this long: enough for a message, bounded under load. */
const MAX_BODY_CHARS = 1 << 20;

export interface ResponseOutcome {
  httpStatus: number | null;
  textTimesMs: number[];
  /** Chunks that carried text: the fallback output-token count (null for a buffered body). */
  textChunks: number | null;
  usage: Usage | null;
  finishReason: string | null;
  errorKind: ErrorKind | null;
  errorMessage: string | null;
  endMs: number;
}

export function statusErrorKind(status: number): ErrorKind {
  return status >= 500 ? "http_5xx" : "http_4xx";
}

export class ResponseTracker {
  private status: number | null = null;
  private streaming = false;
  private readonly sse = new SseParser();
  private body = "";
  private sawDone = false;
  private readonly textTimesMs: number[] = [];
  private usage: Usage | null = null;
  private finishReason: string | null = null;
  private errorKind: ErrorKind | null = null;
  private errorMessage: string | null = null;
  private endMs: number | null = null;

  constructor(
    private readonly api: ApiKind,
    private readonly streamRequested: boolean,
  ) {}

  get finished(): boolean {
    return this.endMs !== null;
  }

  get headersReceived(): boolean {
    return this.status !== null;
  }

  get firstTextAtMs(): number | null {
    return this.textTimesMs[0] ?? null;
  }

  onHeaders(status: number, contentType: string | undefined): void {
    this.status = status;
    // A server may answer a streamed request with plain JSON (errors usually are).
    this.streaming =
      status < 400 && this.streamRequested && (contentType ?? "").includes("text/event-stream");
  }

  /** Decoded body text that arrived at `atMs`. */
  onData(text: string, atMs: number): void {
    if (!this.streaming) {
      if (this.body.length < MAX_BODY_CHARS) this.body += text;
      return;
    }
    for (const event of this.sse.push(text)) this.onSseEvent(event.event, event.data, atMs);
  }

  /**
   * One parsed SSE event. Engines whose transport parses SSE itself (k6 with
   * xk6-sse) call this directly, after `onHeaders(200, "text/event-stream")`.
   */
  onSseEvent(name: string, data: string, atMs: number): void {
    if (name === "error") {
      this.fail("http_5xx", `error event: ${data.slice(0, 200)}`);
      return;
    }
    if (isPlainTextChunk(this.api, data)) {
      this.textTimesMs.push(atMs);
      return;
    }
    const payload = parseStreamPayload(this.api, data);
    switch (payload.kind) {
      case "done":
        this.sawDone = true;
        break;
      case "chunk":
        if (payload.text !== "") this.textTimesMs.push(atMs);
        if (payload.finishReason !== null) this.finishReason = payload.finishReason;
        if (payload.usage !== null) this.usage = payload.usage;
        break;
      case "error":
        this.fail(
          payload.status !== null ? statusErrorKind(payload.status) : "http_5xx",
          `error in stream: ${payload.message}`,
        );
        break;
      case "bad":
        this.fail("bad_payload", payload.message);
        break;
    }
  }

  /** The response ended normally (all bytes received). */
  onEnd(atMs: number): void {
    if (this.endMs !== null) return;
    const status = this.status ?? 0;
    if (status >= 400) {
      const parsed = parseBufferedResponse(this.api, this.body);
      const detail = parsed.kind === "error" ? `: ${parsed.message}` : "";
      this.fail(statusErrorKind(status), `HTTP ${status}${detail}`);
    } else if (this.streaming) {
      if (!this.sawDone) this.fail("truncated", "stream ended without [DONE]");
    } else {
      const parsed = parseBufferedResponse(this.api, this.body);
      if (parsed.kind === "ok") {
        // A buffered answer has no first-token time: the engine sees only the whole body.
        this.usage = parsed.usage;
        this.finishReason = parsed.finishReason;
      } else if (parsed.kind === "error") {
        this.fail(
          parsed.status !== null ? statusErrorKind(parsed.status) : "http_5xx",
          parsed.message,
        );
      } else {
        this.fail("bad_payload", parsed.message);
      }
    }
    this.endMs = atMs;
  }

  /** The exchange failed (socket error, timeout, cancel). First failure wins. */
  onFailure(kind: ErrorKind, message: string, atMs: number): void {
    if (this.endMs !== null) return;
    this.fail(kind, message);
    this.endMs = atMs;
  }

  private fail(kind: ErrorKind, message: string): void {
    if (this.errorKind !== null) return;
    this.errorKind = kind;
    this.errorMessage = message;
  }

  outcome(): ResponseOutcome {
    return {
      httpStatus: this.status,
      textTimesMs: this.textTimesMs,
      textChunks: this.streaming ? this.textTimesMs.length : null,
      usage: this.usage,
      finishReason: this.finishReason,
      errorKind: this.errorKind,
      errorMessage: this.errorMessage,
      endMs: this.endMs ?? Number.NaN,
    };
  }
}
