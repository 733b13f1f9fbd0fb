/**
 * Server-sent events as vLLM writes them: `data: <json>\n\n` per chunk and a
 * final `data: [DONE]\n\n`. A `StreamWriter` batches a stream's writes and adds
 * what the faults need: hold output back for a while (a stalled stream) and
 * cut the connection mid-way.
 */
import type { ServerResponse } from "node:http";
import type { Flushable, StreamFlusher } from "./stream-flusher.ts";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
} as const;

export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";

/**
 * One response stream. Writes are buffered and sent by the shared
 * `StreamFlusher`, so everything a request gets in one step (a token, or the
 * last token, the usage chunk, `[DONE]` and the end) leaves in one socket
 * write, and a slow reader's tokens gather here rather than in Node's buffers.
 */
export class StreamWriter implements Flushable {
  queued = false;
  private readonly res: ServerResponse;
  private readonly flusher: StreamFlusher;
  private pending = "";
  private held = false;
  private endPending = false;
  private waitingForDrain = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(res: ServerResponse, flusher: StreamFlusher) {
    this.res = res;
    this.flusher = flusher;
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  write(text: string): void {
    if (this.closed) return;
    this.pending += text;
    if (!this.held) this.flusher.enqueue(this);
  }

  /** Buffer everything written in the next `ms` milliseconds, then send it at once. */
  hold(ms: number): void {
    if (ms <= 0 || this.held) return;
    // What was written before the hold goes out now.
    this.flush();
    this.held = true;
    this.timer = setTimeout(() => {
      this.held = false;
      if (this.pending !== "" || this.endPending) this.flusher.enqueue(this);
    }, ms);
  }

  end(): void {
    if (this.closed) return;
    this.endPending = true;
    if (!this.held) this.flusher.enqueue(this);
  }

  flush(): void {
    if (this.held || this.waitingForDrain || this.closed) return;
    if (this.res.writableNeedDrain && !this.endPending) {
      // The client reads slowly: keep gathering here and write it all once it drains.
      this.waitingForDrain = true;
      this.res.once("drain", () => {
        this.waitingForDrain = false;
        this.flusher.enqueue(this);
      });
      return;
    }
    const text = this.pending;
    this.pending = "";
    if (this.endPending) {
      if (text === "") this.res.end();
      else this.res.end(text);
    } else if (text !== "") this.res.write(text);
  }

  /**
   * Close the connection after what was written so far, without finishing the
   * response: the client sees a stream that stops mid-way (no final chunk, no `[DONE]`).
   */
  cut(): void {
    if (this.timer) clearTimeout(this.timer);
    this.held = false;
    const text = this.pending;
    this.pending = "";
    if (!this.closed && text !== "") this.res.write(text);
    const socket = this.res.socket;
    if (socket) socket.end();
    else this.res.destroy();
  }
}
