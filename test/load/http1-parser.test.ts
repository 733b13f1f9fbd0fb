import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Http1ProtocolError,
  Http1ResponseParser,
  type ResponseHead,
} from "../../load/node/http1-parser.ts";

interface Parsed {
  heads: ResponseHead[];
  body: string;
  complete: boolean;
}

function parseSplit(bytes: Buffer, cuts: number[], closeAtEnd = false): Parsed {
  const out: Parsed = { heads: [], body: "", complete: false };
  const parts: Buffer[] = [];
  const parser = new Http1ResponseParser({
    onHead: (h) => out.heads.push(h),
    onBody: (b) => parts.push(Buffer.from(b)),
    onComplete: () => {
      out.complete = true;
    },
  });
  let last = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut > last) parser.push(bytes.subarray(last, cut));
    last = Math.max(last, cut);
  }
  if (last < bytes.length) parser.push(bytes.subarray(last));
  if (closeAtEnd) parser.end();
  out.body = Buffer.concat(parts).toString("utf8");
  return out;
}

/** A chunked response as servers write it, with optional chunk extensions and trailers. */
function chunked(pieces: string[], opts: { ext: boolean; trailer: boolean; interim: boolean }) {
  let text = opts.interim ? "HTTP/1.1 100 Continue\r\n\r\n" : "";
  text +=
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  const body: Buffer[] = [Buffer.from(text)];
  for (const piece of pieces) {
    const bytes = Buffer.from(piece);
    if (bytes.length === 0) continue;
    body.push(Buffer.from(`${bytes.length.toString(16)}${opts.ext ? ";x=1" : ""}\r\n`));
    body.push(bytes, Buffer.from("\r\n"));
  }
  body.push(Buffer.from(opts.trailer ? "0\r\nX-Trailer: 1\r\n\r\n" : "0\r\n\r\n"));
  return Buffer.concat(body);
}

describe("Http1ResponseParser", () => {
  it("recovers head and body of a chunked response whatever the read boundaries", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "grapheme", maxLength: 30 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (pieces, cutSeeds, ext, trailer, interim) => {
          const bytes = chunked(pieces, { ext, trailer, interim });
          const cuts = cutSeeds.map((c) => c % (bytes.length + 1));
          const parsed = parseSplit(bytes, cuts);
          expect(parsed.heads).toEqual([
            { status: 200, contentType: "text/event-stream", keepAlive: true, idleTimeoutMs: null },
          ]);
          expect(parsed.body).toBe(pieces.join(""));
          expect(parsed.complete).toBe(true);
        },
      ),
    );
  });

  it("reads Content-Length bodies and honours Connection: close", () => {
    const body = JSON.stringify({ error: "planted", code: 500 });
    const bytes = Buffer.from(
      `HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\nKeep-Alive: timeout=5\r\n\r\n${body}`,
    );
    const parsed = parseSplit(bytes, [3, 40, bytes.length - 2]);
    expect(parsed.heads[0]).toEqual({
      status: 500,
      contentType: "application/json",
      keepAlive: false,
      idleTimeoutMs: 5000,
    });
    expect(parsed.body).toBe(body);
    expect(parsed.complete).toBe(true);
  });

  it("a body with neither length nor chunking ends at the close, and closes the connection", () => {
    const bytes = Buffer.from("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nhello");
    const open = parseSplit(bytes, [20]);
    expect(open.complete).toBe(false);
    const closed = parseSplit(bytes, [20], true);
    expect(closed).toMatchObject({ body: "hello", complete: true });
    expect(closed.heads[0]?.keepAlive).toBe(false);
  });

  it("a cut-off chunked body is not complete at the close", () => {
    const bytes = chunked(["data: a\n\n", "data: b\n\n"], {
      ext: false,
      trailer: false,
      interim: false,
    });
    const cut = bytes.subarray(0, bytes.length - 9);
    const parser = new Http1ResponseParser({ onHead() {}, onBody() {}, onComplete() {} });
    parser.push(cut);
    expect(parser.end()).toBe(false);
  });

  it("rejects malformed heads, chunk sizes and bytes after the end", () => {
    const feed = (text: string) => () =>
      new Http1ResponseParser({ onHead() {}, onBody() {}, onComplete() {} }).push(
        Buffer.from(text),
      );
    expect(feed("SSH-2.0-OpenSSH\r\n\r\n")).toThrow(Http1ProtocolError);
    expect(feed("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n")).toThrow(
      Http1ProtocolError,
    );
    expect(feed("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA")).toThrow(Http1ProtocolError);
  });
});
