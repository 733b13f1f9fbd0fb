/**
 * A Server-Sent Events parser following the WHATWG event-stream rules: lines
 * end in LF, CRLF or a lone CR (a CR at the end of one chunk and an LF at the
 * start of the next are one line end); `:` lines are comments; several `data:`
 * lines join with "\n"; a blank line dispatches. Input may be split anywhere.
 * An event still open when the stream ends is dropped, as the spec says: a
 * stream cut mid-event is a truncation, not a short event.
 */

export interface SseEvent {
  /** The `event:` field, "message" by default. */
  event: string;
  data: string;
  id: string | null;
}

export class SseParser {
  private buffer = "";
  /** The previous chunk ended in CR: a leading LF of the next chunk belongs to it. */
  private pendingCr = false;
  private data: string[] = [];
  private eventType = "";
  private lastId: string | null = null;
  private sawField = false;

  /** Feed decoded text; returns the events completed by it. */
  push(chunk: string): SseEvent[] {
    // The read a token stream is made of: exactly one `data: …` event and nothing carried over.
    // It takes one slice instead of the line-by-line walk (same result, the tests compare them).
    if (
      this.buffer === "" &&
      !this.pendingCr &&
      !this.sawField &&
      chunk.startsWith("data: ") &&
      chunk.indexOf("\n") === chunk.length - 2 &&
      chunk.charCodeAt(chunk.length - 1) === 10 &&
      chunk.indexOf("\r") === -1
    ) {
      return [{ event: "message", data: chunk.slice(6, -2), id: this.lastId }];
    }
    const events: SseEvent[] = [];
    let text = chunk;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.startsWith("\n")) text = text.slice(1);
    }
    if (text === "") return events;
    let buffer = this.buffer + text;
    let start = 0;
    // Servers end lines with LF (vLLM, every OpenAI-compatible one we know): find them with
    // the native indexOf instead of a loop over every character; CR anywhere takes the full path.
    if (!this.pendingCr && buffer.indexOf("\r") === -1) {
      for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n", start)) {
        this.line(buffer.slice(start, nl), events);
        start = nl + 1;
      }
      this.buffer = buffer.slice(start);
      return events;
    }
    for (let i = 0; i < buffer.length; i++) {
      const ch = buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.line(buffer.slice(start, i), events);
      if (ch === 13) {
        if (i + 1 < buffer.length) {
          if (buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    buffer = buffer.slice(start);
    this.buffer = buffer;
    return events;
  }

  /** Bytes received after the last complete event (nonzero at the end = truncated event). */
  get hasPartialEvent(): boolean {
    return this.buffer !== "" || this.sawField;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === "") {
      if (this.data.length > 0) {
        events.push({
          event: this.eventType || "message",
          data: this.data.length === 1 ? (this.data[0] as string) : this.data.join("\n"),
          id: this.lastId,
        });
      }
      this.data = [];
      this.eventType = "";
      this.sawField = false;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    this.sawField = true;
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.eventType = value;
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields are ignored, as the spec says.
        break;
    }
  }
}
