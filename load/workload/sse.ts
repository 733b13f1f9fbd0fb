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

/**
 * Line ends of one text in order, each found once: the next LF and the next CR are
 * cached, so a text with many lines and no CR is not rescanned for a CR per line.
 * Servers end lines with LF (vLLM and every OpenAI-compatible one we know).
 */
class LineEnds {
  private lf: number;
  private cr: number;
  constructor(private readonly text: string) {
    this.lf = text.indexOf("\n");
    this.cr = text.indexOf("\r");
  }
  /** The first LF or CR at or after `from`; -1 when none. */
  next(from: number): number {
    if (this.lf !== -1 && this.lf < from) this.lf = this.text.indexOf("\n", from);
    if (this.cr !== -1 && this.cr < from) this.cr = this.text.indexOf("\r", from);
    if (this.cr === -1) return this.lf;
    return this.lf === -1 ? this.cr : Math.min(this.lf, this.cr);
  }
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
    // Only the new text is scanned: the carried part never holds a line end (every one found
    // was consumed), so an event split over many reads costs its length once, not once per
    // read (a 20 MB event in 64 KiB reads used to take seconds).
    let start = 0;
    const ends = new LineEnds(text);
    for (let i = ends.next(0); i !== -1; i = ends.next(start)) {
      const head = this.buffer;
      this.buffer = "";
      this.line(head === "" ? text.slice(start, i) : head + text.slice(start, i), events);
      if (text.charCodeAt(i) === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    if (start < text.length) this.buffer += text.slice(start);
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
