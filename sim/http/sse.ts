/**
 * Server-sent events as vLLM writes them: `data: <json>\n\n` per chunk and a
 * final `data: [DONE]\n\n`. A `StreamWriter` adds what the faults need: hold
 * output back for a while (a stalled stream) and cut the connection mid-way.
 */
import type { ServerResponse } from "node:http";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
} as const;

export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";

export class StreamWriter {
  private readonly res: ServerResponse;
  private held: string[] | undefined;
  private endPending = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  write(text: string): void {
    if (this.closed) return;
    if (this.held) this.held.push(text);
    else this.res.write(text);
  }

  /** Buffer everything written in the next `ms` milliseconds, then send it at once. */
  hold(ms: number): void {
    if (ms <= 0 || this.held) return;
    this.held = [];
    this.timer = setTimeout(() => {
      const held = this.held ?? [];
      this.held = undefined;
      if (!this.closed && held.length > 0) this.res.write(held.join(""));
      if (this.endPending) this.end();
    }, ms);
  }

  end(): void {
    if (this.held) {
      this.endPending = true;
      return;
    }
    if (!this.closed) this.res.end();
  }

  /**
   * Close the connection after what was written so far, without finishing the
   * response: the client sees a stream that stops mid-way (no final chunk, no `[DONE]`).
   */
  cut(): void {
    if (this.timer) clearTimeout(this.timer);
    const held = this.held ?? [];
    this.held = undefined;
    if (!this.closed && held.length > 0) this.res.write(held.join(""));
    const socket = this.res.socket;
    if (socket) socket.end();
    else this.res.destroy();
  }
}
