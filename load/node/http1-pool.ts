/**
 * The engine's keep-alive connections to the target: plain `net`/`tls`
 * sockets, one request at a time each, parsed by `http1-parser.ts`. Not
 * undici: a streamed token costs one socket read here (a `data` callback,
 * timestamped at once, and a parser pass over a few bytes), where undici's
 * path adds a Readable's read loop, llhttp in WebAssembly and its handler
 * layers: about twice a bare socket's client CPU per streamed request
 * (docs/load.md, "A cheaper path per streamed event"). The pool has no cap:
 * the schedule bounds what is in flight (one connection per closed-loop
 * user, per open-loop request in flight), so the client never queues.
 * Plain TCP sockets read through `onread` into one buffer the thread's
 * connections share, not `data` events: no Buffer allocated and no stream
 * machinery per read (docs/load.md measures it). Safe because every read is
 * parsed, decoded into a string and done with before its callback returns
 * (the parser copies the head bytes it carries over).
 */
import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { nowMs } from "./clock.ts";
import { Http1ResponseParser, type ResponseEvents, type ResponseHead } from "./http1-parser.ts";
import { readWait } from "./read-wait.ts";

export interface ExchangeHandler {
  onHead(head: ResponseHead, atMs: number): void;
  /** Body bytes of one socket read, as they arrived at `atMs`. */
  onBody(bytes: Buffer, atMs: number): void;
  onComplete(atMs: number): void;
  /** A socket error, a close before the end, or malformed HTTP (`code` as Node or llhttp name it). */
  onError(error: Error, headersReceived: boolean, atMs: number): void;
}

export interface Exchange {
  /** Stop `handler`'s exchange if it still runs: the connection is closed, no handler call follows. */
  abort(handler: ExchangeHandler): void;
}

export interface PoolRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A socket closed (or was ended by the peer) with no error: `code` names it in the record's error_message (undici's name for it). */
class SocketClosedError extends Error {
  readonly code = "UND_ERR_SOCKET";
}
class ConnectTimeoutError extends Error {
  readonly code = "UND_ERR_CONNECT_TIMEOUT";
}

/** One read buffer for the thread: a read is consumed before the next can land in it. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

class Connection implements Exchange, ResponseEvents {
  readonly socket: Socket;
  private handler: ExchangeHandler | null = null;
  /** One parser per connection, reset per response: nothing allocated per request. */
  private readonly parser = new Http1ResponseParser(this);
  private keepAlive = false;
  private idleTimeoutMs: number | null = null;
  /** When this idle connection should no longer be used (the server may be closing it). */
  reuseUntilMs = 0;
  /** The time of the read being parsed. */
  private at = 0;
  dead = false;

  constructor(
    private readonly pool: Http1Pool,
    target: URL,
    connectTimeoutMs: number,
  ) {
    const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
    const host = target.hostname.replace(/^\[|\]$/g, "");
    this.socket =
      target.protocol === "https:"
        ? connectTls({ host, port, servername: host, ALPNProtocols: ["http/1.1"] })
        : connectTcp({
            host,
            port,
            onread: {
              buffer: READ_BUFFER,
              callback: (n: number, buffer: Uint8Array) => {
                this.onData((buffer as Buffer).subarray(0, n));
                return true; // keep reading (false would pause the socket)
              },
            },
          });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(connectTimeoutMs, () =>
      this.fail(new ConnectTimeoutError(`no connection within ${connectTimeoutMs} ms`)),
    );
    this.socket.once("connect", () => this.socket.setTimeout(0));
    // TLS sockets have no `onread`: they deliver `data` events.
    if (target.protocol === "https:") this.socket.on("data", (bytes: Buffer) => this.onData(bytes));
    this.socket.on("error", (error) => this.fail(error));
    this.socket.on("end", () => this.onClose());
    this.socket.on("close", () => this.onClose());
  }

  send(head: string, body: string, handler: ExchangeHandler): void {
    this.handler = handler;
    this.keepAlive = false;
    this.parser.reset();
    this.socket.write(head + body);
  }

  onHead(head: ResponseHead): void {
    this.keepAlive = head.keepAlive;
    this.idleTimeoutMs = head.idleTimeoutMs;
    this.handler?.onHead(head, this.at);
  }

  onBody(bytes: Buffer): void {
    this.handler?.onBody(bytes, this.at);
  }

  onComplete(): void {
    const handler = this.handler;
    this.handler = null;
    if (this.keepAlive && !this.dead) {
      this.reuseUntilMs = this.at + idleReuseMs(this.idleTimeoutMs);
      this.pool.release(this);
    } else this.close();
    handler?.onComplete(this.at);
  }

  private onData(bytes: Buffer): void {
    this.at = nowMs();
    readWait.read(this.at);
    if (this.handler === null) {
      // Bytes while idle: nothing asked for them, so the connection is out of step.
      this.close();
      return;
    }
    try {
      this.parser.push(bytes);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private onClose(): void {
    if (this.handler !== null) {
      this.at = nowMs();
      if (this.parser.end()) return;
      this.fail(
        new SocketClosedError("the server closed the connection before the response ended"),
      );
    } else this.close();
  }

  private fail(error: Error): void {
    const handler = this.handler;
    const headersReceived = this.parser.headComplete;
    this.close();
    handler?.onError(error, headersReceived, nowMs());
  }

  abort(handler: ExchangeHandler): void {
    if (this.handler === handler) this.close();
  }

  /** Detach the handler and close (an abort, an error, or an unusable connection). */
  close(): void {
    this.handler = null;
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    this.pool.forget(this);
  }
}

/**
 * How long an idle connection is reused. A server closes idle keep-alive
 * connections (uvicorn, vLLM's server, after 5 s; Node's after 5 s) and a
 * request sent as the close crosses it fails as a reset. As undici does, a
 * connection is given up a second before the server's `Keep-Alive: timeout`
 * hint, or after 4 s without one.
 */
function idleReuseMs(hintMs: number | null): number {
  return hintMs === null ? 4_000 : Math.max(0, hintMs - 1_000);
}

function headerLine(name: string, value: string): string {
  // A CR or LF in a value would start a header of its own (an API key pasted with a newline, say).
  if (value.includes("\r") || value.includes("\n"))
    throw new TypeError(`header ${name} holds a line break`);
  return `${name}: ${value}\r\n`;
}

export class Http1Pool {
  private readonly target: URL;
  private readonly hostHeader: string;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();

  constructor(
    origin: string,
    private readonly connectTimeoutMs: number,
  ) {
    this.target = new URL(origin);
    this.hostHeader = headerLine("host", this.target.host);
  }

  /** Send one request on an idle connection, or a new one. Errors reach `handler.onError`. */
  request(req: PoolRequest, handler: ExchangeHandler): Exchange {
    const now = nowMs();
    let conn = this.idle.pop();
    while (conn !== undefined && (conn.dead || conn.reuseUntilMs < now)) {
      conn.close();
      conn = this.idle.pop();
    }
    if (conn === undefined) {
      conn = new Connection(this, this.target, this.connectTimeoutMs);
      this.all.add(conn);
    }
    let head = `POST ${req.path} HTTP/1.1\r\n${this.hostHeader}`;
    for (const name in req.headers) head += headerLine(name, req.headers[name] as string);
    head += `content-length: ${Buffer.byteLength(req.body)}\r\n\r\n`;
    conn.send(head, req.body, handler);
    return conn;
  }

  release(conn: Connection): void {
    this.idle.push(conn);
  }

  forget(conn: Connection): void {
    this.all.delete(conn);
  }

  /** Close every connection (the run is over). */
  destroy(): void {
    for (const conn of [...this.all]) conn.close();
    this.idle.length = 0;
  }
}
