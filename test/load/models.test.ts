/**
 * `GET /v1/models` failures say what is wrong: a key the server wants, a
 * server that takes the connection and never answers, one that is down.
 * Real servers on loopback.
 */
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../common/errors.ts";
import { firstServedModel } from "../../load/node/models.ts";

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const s of servers.splice(0)) await new Promise((done) => s.close(done));
});

async function listening<T extends Server>(server: T): Promise<string> {
  servers.push(server);
  server.on("connection", (socket: Socket) => sockets.push(socket));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

async function failure(run: Promise<string>): Promise<string> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServerError);
  return (error as ServerError).format();
}

describe("firstServedModel", () => {
  it("names the API key on a 401, not --model", async () => {
    const url = await listening(
      createHttpServer((_req, res) => {
        res.writeHead(401, { "content-type": "application/json" });
        res.end('{"error":"Unauthorized"}');
      }),
    );
    const line = await failure(firstServedModel(url));
    expect(line).toContain("HTTP 401");
    expect(line).toContain("--api-key-env");
    expect(line).not.toContain("--model");
    expect(await failure(firstServedModel(url, "wrong-key"))).toContain(
      "the key given was refused",
    );
  });

  it("tells a server that accepts but never answers from one that is down", async () => {
    const silent = createTcpServer(() => {}); // takes the connection, says nothing
    const url = await listening(silent);
    const line = await failure(firstServedModel(url, undefined, 300));
    expect(line).toContain("accepted the connection but did not answer");
    expect(line).not.toContain("is the server running?");
  });
});
