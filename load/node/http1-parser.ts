/**
 * An HTTP/1.1 response parser (RFC 9112) for the load engine's own client:
 * bytes in, head and body slices out, input split anywhere. Pure: the
 * connection shell (`http1-pool.ts`) feeds it what each socket read brought.
 * Body framing: chunked (extensions and trailers skipped), Content-Length,
 * or delimited by the close; 1xx interim heads are skipped. It reads one
 * response at a time (the client never pipelines).
 */

export interface ResponseHead {
  status: number;
  contentType: string | undefined;
  /** The connection may carry the next request after this response. */
  keepAlive: boolean;
  /** The server's `Keep-Alive: timeout=N` hint (ms), or null. */
  idleTimeoutMs: number | null;
}

export interface ResponseEvents {
  onHead(head: ResponseHead): void;
  /** A slice of the input: valid only during the call. */
  onBody(bytes: Buffer): void;
  onComplete(): void;
}

/** Malformed HTTP from the server; `code` as llhttp names its errors. */
export class Http1ProtocolError extends Error {
  readonly code = "HPE_INVALID";
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4096;
const HEAD_END = Buffer.from("\r\n\r\n");
const CR = 13;
const LF = 10;

type State =
  | "head"
  | "length"
  | "chunk-size"
  | "chunk-data"
  | "chunk-end"
  | "trailers"
  | "until-close"
  | "done";

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

export class Http1ResponseParser {
  private state: State = "head";
  /** Head bytes (or a chunk-size / trailer line) split across reads. */
  private pending: Buffer | null = null;
  private remaining = 0;
  private lineBytes = 0;
  private lineEmpty = true;
  private sizeDigits = 0;
  private inExtension = false;

  constructor(private readonly events: ResponseEvents) {}

  /** Ready for the next response on the same connection. */
  reset(): void {
    this.state = "head";
    this.pending = null;
  }

  get headComplete(): boolean {
    return this.state !== "head";
  }

  /** Feed one read. Throws Http1ProtocolError on malformed input or bytes after the response. */
  push(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      switch (this.state) {
        case "head":
          at = this.readHead(bytes, at);
          break;
        case "length":
        case "chunk-data":
          at = this.readCounted(bytes, at);
          break;
        case "chunk-size":
          at = this.readChunkSize(bytes, at);
          break;
        case "chunk-end":
          at = this.readChunkEnd(bytes, at);
          break;
        case "trailers":
          at = this.readTrailers(bytes, at);
          break;
        case "until-close":
          this.events.onBody(at === 0 ? bytes : bytes.subarray(at));
          at = bytes.length;
          break;
        case "done":
          throw new Http1ProtocolError("bytes after the end of the response");
      }
    }
  }

  /** The connection closed: true when that ends a close-delimited body, else the response was cut. */
  end(): boolean {
    if (this.state === "until-close") {
      this.finish();
      return true;
    }
    return this.state === "done";
  }

  /** Body bytes of a known count: the rest of a Content-Length body, or of one chunk. */
  private readCounted(bytes: Buffer, at: number): number {
    const n = Math.min(this.remaining, bytes.length - at);
    this.events.onBody(bytes.subarray(at, at + n));
    this.remaining -= n;
    if (this.remaining === 0 && this.state === "length") this.finish();
    else if (this.remaining === 0) {
      this.state = "chunk-end";
      this.lineBytes = 0;
    }
    return at + n;
  }

  private finish(): void {
    this.state = "done";
    this.events.onComplete();
  }

  private readHead(bytes: Buffer, at: number): number {
    const input =
      this.pending === null
        ? bytes.subarray(at)
        : Buffer.concat([this.pending, bytes.subarray(at)]);
    const carried = this.pending === null ? 0 : this.pending.length;
    // A split "\r\n\r\n" straddles the old and new bytes: search from 3 bytes before the join.
    const end = input.indexOf(HEAD_END, Math.max(0, carried - 3));
    if (end === -1) {
      if (input.length > MAX_HEAD_BYTES) throw new Http1ProtocolError("response head too large");
      this.pending = Buffer.from(input);
      return bytes.length;
    }
    this.pending = null;
    const consumed = at + (end + 4 - carried);
    this.parseHead(input.toString("latin1", 0, end));
    return consumed;
  }

  private parseHead(text: string): void {
    const lines = text.split("\r\n");
    const statusLine = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? "");
    if (statusLine === null) throw new Http1ProtocolError("not an HTTP/1.x status line");
    const status = Number(statusLine[2]);
    let contentType: string | undefined;
    let contentLength: number | null = null;
    let chunked = false;
    let connection = "";
    let idleTimeoutMs: number | null = null;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Http1ProtocolError("malformed header line");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-type") contentType = value;
      else if (name === "content-length") {
        if (!/^\d+$/.test(value)) throw new Http1ProtocolError("bad content-length");
        contentLength = Number(value);
      } else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
      else if (name === "connection") connection = value.toLowerCase();
      else if (name === "keep-alive") {
        const timeout = /timeout=(\d+)/i.exec(value);
        if (timeout) idleTimeoutMs = Number(timeout[1]) * 1000;
      }
    }
    // 1xx (100 Continue, 103 Early Hints) precede the real head: skip them.
    if (status >= 100 && status < 200) return;
    const noBody = status === 204 || status === 304;
    const untilClose = !noBody && !chunked && contentLength === null;
    const keepAlive =
      !untilClose &&
      !connection.includes("close") &&
      (statusLine[1] === "1" || connection.includes("keep-alive"));
    this.events.onHead({ status, contentType, keepAlive, idleTimeoutMs });
    if (noBody) this.finish();
    else if (chunked) this.startChunkSize();
    else if (contentLength !== null) {
      this.remaining = contentLength;
      this.state = "length";
      if (contentLength === 0) this.finish();
    } else this.state = "until-close";
  }

  private startChunkSize(): void {
    this.state = "chunk-size";
    this.remaining = 0;
    this.sizeDigits = 0;
    this.inExtension = false;
    this.lineBytes = 0;
  }

  private readChunkSize(bytes: Buffer, at: number): number {
    for (let i = at; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (++this.lineBytes > MAX_LINE_BYTES)
        throw new Http1ProtocolError("chunk size line too long");
      if (byte === LF) {
        if (this.sizeDigits === 0) throw new Http1ProtocolError("chunk size missing");
        if (this.remaining === 0) {
          this.state = "trailers";
          this.lineBytes = 0;
          this.lineEmpty = true;
        } else this.state = "chunk-data";
        return i + 1;
      }
      if (byte === CR || this.inExtension) continue;
      if (byte === 59 /* ; */) {
        this.inExtension = true;
        continue;
      }
      const digit = hexValue(byte);
      if (digit === -1 || this.sizeDigits >= 12) throw new Http1ProtocolError("bad chunk size");
      this.remaining = this.remaining * 16 + digit;
      this.sizeDigits++;
    }
    return bytes.length;
  }

  private readChunkEnd(bytes: Buffer, at: number): number {
    for (let i = at; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (byte === LF) {
        this.startChunkSize();
        return i + 1;
      }
      if (byte !== CR || ++this.lineBytes > 1)
        throw new Http1ProtocolError("chunk not followed by CRLF");
    }
    return bytes.length;
  }

  private readTrailers(bytes: Buffer, at: number): number {
    for (let i = at; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (byte === LF) {
        if (this.lineEmpty) {
          this.finish();
          return i + 1;
        }
        this.lineEmpty = true;
        this.lineBytes = 0;
        continue;
      }
      if (++this.lineBytes > MAX_LINE_BYTES) throw new Http1ProtocolError("trailer line too long");
      if (byte !== CR) this.lineEmpty = false;
    }
    return bytes.length;
  }
}
