import { createServer } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ExchangeHandler } from "../../load/node/http1-pool.ts";
import { Http1Pool } from "../../load/node/http1-pool.ts";

let close: (() => void) | null = null;
afterEach(() => close?.());

/** A real server counting its connections; `hint` is the Keep-Alive header it sends. */
async function server(hint: string) {
  let connections = 0;
  const s = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain", "keep-alive": hint });
      res.end("ok");
    });
  });
  s.on("connection", () => connections++);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  close = () => {
    s.closeAllConnections();
    s.close();
  };
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, count: () => connections };
}

const exchange = (pool: Http1Pool) =>
  new Promise<number>((resolve, reject) => {
    const handler: ExchangeHandler = {
      onHead: (head) => resolve(head.status),
      onBody() {},
      onComplete() {},
      onError: reject,
    };
    pool.request({ path: "/", headers: {}, body: "{}" }, handler);
  });

describe("Http1Pool", () => {
  // Node's server closes idle connections after its hint; the pool gives them up a second sooner.
  it.each([
    [
      "reuses an idle connection within the server's keep-alive hint, less a second",
      "timeout=5",
      1,
    ],
    ["opens a new connection once the hint says the server may be closing it", "timeout=1", 2],
  ])("%s", async (_name, hint, connections) => {
    const s = await server(hint);
    const pool = new Http1Pool(s.url, 1_000);
    expect(await exchange(pool)).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(await exchange(pool)).toBe(200);
    expect(s.count()).toBe(connections);
    pool.destroy();
  });
});

describe("Http1Pool reads", () => {
  // Plain sockets share one read buffer: a head cut across reads must survive another
  // connection's read landing in that buffer before its rest arrives.
  it("keeps a head split across reads intact while another connection reads in between", async () => {
    const sockets: Socket[] = [];
    const s = createTcpServer((socket) => {
      socket.setNoDelay(true);
      socket.once("data", () => sockets.push(socket));
    });
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    close = () => {
      for (const socket of sockets) socket.destroy();
      s.close();
    };
    const pool = new Http1Pool(`http://127.0.0.1:${(s.address() as AddressInfo).port}`, 1_000);
    const seen = (name: string) =>
      new Promise<string>((resolve, reject) => {
        let body = "";
        let type: string | undefined;
        pool.request(
          { path: `/${name}`, headers: {}, body: "{}" },
          {
            onHead: (head) => {
              type = head.contentType;
            },
            onBody: (bytes) => {
              body += bytes.toString("latin1");
            },
            onComplete: () => resolve(`${type} ${body}`),
            onError: reject,
          },
        );
      });
    const a = seen("a");
    const b = seen("b");
    while (sockets.length < 2) await new Promise((r) => setTimeout(r, 5));
    const pause = () => new Promise((r) => setTimeout(r, 30));
    const [first, second] = sockets as [Socket, Socket];
    first.write("HTTP/1.1 200 OK\r\ncontent-type: text/first-conn");
    await pause();
    second.write(
      "HTTP/1.1 200 OK\r\ncontent-type: text/other-conn\r\ncontent-length: 12\r\n\r\nBBBBBBBBBBBB",
    );
    await pause();
    first.write("ection\r\ncontent-length: 4\r\n\r\nAAAA");
    const answers = new Set([await a, await b]);
    expect(answers).toEqual(
      new Set(["text/first-connection AAAA", "text/other-conn BBBBBBBBBBBB"]),
    );
    pool.destroy();
  });
});
