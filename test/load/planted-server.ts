/**
 * A small OpenAI-compatible streaming server with planted timings and planted
 * faults, for the load engine's tests and `bench/load.ts`. A real `node:http`
 * server on loopback: first a role-only chunk at once (it must not count as
 * the first token), then text chunks at the planted TTFT and ITL after the
 * request arrived, a finish chunk, a usage chunk and `[DONE]`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";

export type Fault =
  | "none"
  | "http500"
  | "reset"
  | "reset-mid"
  | "truncate"
  | "stall"
  | "error-mid"
  | "bad-json";

export interface Plan {
  ttftMs: number;
  itlMs: number;
  /** Text chunks to send; default: the request's max_tokens. */
  tokens?: number;
  fault?: Fault;
  /** Send usage (include_usage); false tests the chunk-count fallback. */
  usage?: boolean;
  /** The `usage.completion_tokens` claimed; default: the tokens sent (a lying server otherwise). */
  claimedTokens?: number;
  /** One stalled gap per request: text chunk `beforeToken` (1-based) and every later one come `ms` late. */
  stall?: { beforeToken: number; ms: number };
}

export interface PlantedServerOptions {
  plan: (body: Record<string, unknown>, index: number) => Plan;
  /** Spin the last 2 ms of each wait for sub-millisecond accuracy (low load only). */
  precise?: boolean;
  /** Answer POST /tokenize (one token per whitespace-separated word). */
  tokenize?: boolean;
  model?: string;
  /** Keep every request body (tests inspect them); off for long benchmarks. */
  keepBodies?: boolean;
}

export interface RequestStat {
  requestId: string;
  /** Epoch µs when the first text chunk was written (taken just before the write). */
  firstTextUs: number | null;
  /** Epoch µs of every text chunk's write (tests keep them; the bench does not). */
  textWritesUs: number[];
  /** Epoch µs when the last byte ([DONE]) was written. */
  endUs: number | null;
  receivedUs: number;
}

export interface PlantedServer {
  url: string;
  port: number;
  /** Most streams open at once so far. */
  readonly maxActive: number;
  readonly active: number;
  readonly requests: number;
  readonly bodies: Record<string, unknown>[];
  readonly stats: RequestStat[];
  close(): Promise<void>;
}

const epochUs = (atMs = performance.now()) => Math.round((performance.timeOrigin + atMs) * 1000);

/**
 * One timer for every stream (non-precise waits): waits are bucketed by the
 * millisecond they are due and one 1 ms interval, armed only while any wait
 * is pending, releases each bucket (±1 ms: the bench's planted load, not
 * the precise mode the timing tests use). At thousands of streams a timer per token
 * per stream was what saturated the planted server, not the client it serves.
 */
class Ticker {
  private readonly buckets = new Map<number, Array<() => void>>();
  private next = 0;
  private pending = 0;
  private interval: NodeJS.Timeout | null = null;

  wait(atMs: number, resolve: () => void): void {
    // Bucketed by the millisecond it falls in and released at the first tick of that
    // millisecond: a wait ends within about ±1 ms of its time, centred on it (a ceiling would
    // make every wait late by a tick, which the client's TTFT error would then carry).
    if (atMs <= performance.now()) {
      resolve();
      return;
    }
    // A wait due later in a millisecond the ticker already released goes out at the next tick:
    // filed under its own millisecond it would never be released.
    const key = this.interval === null ? Math.floor(atMs) : Math.max(Math.floor(atMs), this.next);
    const bucket = this.buckets.get(key);
    if (bucket) bucket.push(resolve);
    else this.buckets.set(key, [resolve]);
    this.pending++;
    if (this.interval === null) {
      this.next = Math.floor(performance.now());
      this.interval = setInterval(() => this.tick(), 1);
    }
  }

  private tick(): void {
    const now = performance.now();
    for (; this.next <= now; this.next++) {
      const bucket = this.buckets.get(this.next);
      if (!bucket) continue;
      this.buckets.delete(this.next);
      this.pending -= bucket.length;
      for (const resolve of bucket) resolve();
    }
    if (this.pending === 0 && this.interval !== null) {
      clearInterval(this.interval);
      this.interval = null;
    }
  }
}

const ticker = new Ticker();

function waitUntil(atMs: number, precise: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (!precise) return ticker.wait(atMs, resolve);
    const spinTail = () => {
      while (performance.now() < atMs) {}
      resolve();
    };
    const delay = atMs - performance.now() - 2;
    if (delay <= 0) spinTail();
    else setTimeout(spinTail, delay);
  });
}

function chunk(api: string, text: string | null, extra: Record<string, unknown> = {}): string {
  const choice =
    api === "chat"
      ? {
          index: 0,
          delta: text === null ? { role: "assistant" } : { content: text },
          finish_reason: null,
        }
      : { index: 0, text: text ?? "", finish_reason: null };
  return `data: ${JSON.stringify({ id: "cmpl-planted", object: "chunk", choices: [choice], ...extra })}\n\n`;
}

/**
 * The text chunk every stream repeats, encoded once per API as a whole HTTP
 * chunked-encoding frame (size line, data, CRLF) and written straight to the
 * socket: one write call per token instead of http's three writes, cork and
 * tick (at 8,192 streams the server's eight processes were what saturated).
 */
const TEXT_CHUNK = { chat: chunk("chat", " tok"), completions: chunk("completions", " tok") };
const textFrame = (text: string) =>
  Buffer.from(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
const TEXT_FRAME = {
  chat: textFrame(TEXT_CHUNK.chat),
  completions: textFrame(TEXT_CHUNK.completions),
};

export async function startPlantedServer(options: PlantedServerOptions): Promise<PlantedServer> {
  const precise = options.precise ?? false;
  const model = options.model ?? "planted-model";
  const sockets = new Set<Socket>();
  const bodies: Record<string, unknown>[] = [];
  const stats: RequestStat[] = [];
  let active = 0;
  let maxActive = 0;
  let requests = 0;

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => {
        text += c;
      });
      req.on("end", () => resolve(text));
      req.on("error", reject);
    });

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };

  const complete = async (
    req: IncomingMessage,
    res: ServerResponse,
    api: "chat" | "completions",
  ) => {
    const raw = await readBody(req);
    const receivedMs = performance.now();
    const body = JSON.parse(raw) as Record<string, unknown>;
    if (options.keepBodies !== false) bodies.push(body);
    const index = requests++;
    const stat: RequestStat = {
      requestId: String(req.headers["x-request-id"] ?? index),
      firstTextUs: null,
      textWritesUs: [],
      endUs: null,
      // The instant the waits count from, not a second reading: a preemption in between (the
      // process shares its cores) would shift every time measured against it.
      receivedUs: epochUs(receivedMs),
    };
    stats.push(stat);
    const plan = options.plan(body, index);
    const fault = plan.fault ?? "none";
    const tokens = plan.tokens ?? (typeof body.max_tokens === "number" ? body.max_tokens : 16);
    if (fault === "http500") {
      json(res, 500, {
        object: "error",
        message: "planted failure",
        type: "InternalServerError",
        code: 500,
      });
      return;
    }
    if (fault === "reset") {
      req.socket.resetAndDestroy();
      return;
    }
    active++;
    maxActive = Math.max(maxActive, active);
    res.on("close", () => {
      active--;
    });
    if (body.stream !== true) {
      await waitUntil(receivedMs + plan.ttftMs + plan.itlMs * Math.max(0, tokens - 1), precise);
      const text = Array.from({ length: tokens }, () => " tok").join("");
      json(res, 200, {
        id: "cmpl-planted",
        choices: [
          api === "chat"
            ? { index: 0, message: { role: "assistant", content: text }, finish_reason: "length" }
            : { index: 0, text, finish_reason: "length" },
        ],
        usage: {
          prompt_tokens: 7,
          completion_tokens: plan.claimedTokens ?? tokens,
          total_tokens: 7 + tokens,
        },
      });
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    if (api === "chat") res.write(chunk(api, null));
    else res.flushHeaders();
    for (let i = 0; i < tokens; i++) {
      if (fault === "stall" && i === 1) return; // never answers again; the client must time out
      const stalledMs = plan.stall && i >= plan.stall.beforeToken ? plan.stall.ms : 0;
      await waitUntil(receivedMs + plan.ttftMs + plan.itlMs * i + stalledMs, precise);
      if (res.destroyed) return;
      // The head is out and the response is chunked (no length): the frame is the chunk. Faults
      // keep http's own writes, whose order with their resets and cut-offs the fault tests hold.
      // Stamped just before the write: after it, the client (woken on another core) can read the
      // token before this process runs again to take the time.
      const writtenUs = epochUs();
      if (fault === "none") res.socket?.write(TEXT_FRAME[api]);
      else res.write(TEXT_CHUNK[api]);
      if (i === 0) stat.firstTextUs = writtenUs;
      if (options.keepBodies !== false) stat.textWritesUs.push(writtenUs);
      if (i === 1 && fault === "reset-mid") {
        // Give the client time to read what is out: a RST discards unread bytes, head included.
        await new Promise((r) => setTimeout(r, 20));
        if (!req.socket.destroyed) req.socket.resetAndDestroy();
        return;
      }
      if (i === 1 && fault === "truncate") {
        // FIN without the terminating chunk: a stream cut short.
        req.socket.end();
        return;
      }
      if (i === 1 && fault === "error-mid") {
        res.write(
          `data: ${JSON.stringify({ error: { message: "planted mid-stream error", code: 500 } })}\n\n`,
        );
        res.end("data: [DONE]\n\n");
        return;
      }
      if (i === 1 && fault === "bad-json") {
        res.write('data: {"choices": [\n\n');
      }
    }
    const finish =
      api === "chat"
        ? { index: 0, delta: {}, finish_reason: "length" }
        : { index: 0, text: "", finish_reason: "length" };
    // The finish chunk, usage and [DONE] in one write: one syscall, as vLLM's last frames often come.
    let tail = `data: ${JSON.stringify({ id: "cmpl-planted", choices: [finish] })}\n\n`;
    if (plan.usage !== false) {
      tail += `data: ${JSON.stringify({ id: "cmpl-planted", choices: [], usage: { prompt_tokens: 7, completion_tokens: plan.claimedTokens ?? tokens, total_tokens: 7 + tokens } })}\n\n`;
    }
    res.end(`${tail}data: [DONE]\n\n`);
    stat.endUs = epochUs();
  };

  const server: Server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (req.method === "GET" && url === "/stats") {
      // Per-request server-side times, handed over once (the bench reads them per run).
      json(res, 200, stats.splice(0));
    } else if (req.method === "GET" && url === "/v1/models") {
      json(res, 200, { object: "list", data: [{ id: model, object: "model" }] });
    } else if (req.method === "POST" && url === "/tokenize" && options.tokenize) {
      void readBody(req).then((raw) => {
        const body = JSON.parse(raw) as { prompt?: string };
        const count = (body.prompt ?? "").split(/\s+/).filter((w) => w !== "").length;
        json(res, 200, { count, max_model_len: 4096, tokens: [] });
      });
    } else if (req.method === "POST" && url === "/v1/chat/completions") {
      void complete(req, res, "chat");
    } else if (req.method === "POST" && url === "/v1/completions") {
      void complete(req, res, "completions");
    } else {
      json(res, 404, { object: "error", message: `no route ${req.method} ${url}`, code: 404 });
    }
  });
  server.on("connection", (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 65_000;
  server.maxRequestsPerSocket = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get maxActive() {
      return maxActive;
    },
    get active() {
      return active;
    },
    get requests() {
      return requests;
    },
    bodies,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
