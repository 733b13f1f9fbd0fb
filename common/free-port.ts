import { createServer } from "node:net";

/**
 * A port that is free on `host` right now: listen on 0, read what the kernel
 * gave, close. Called right before each server start (`port: auto`) so the
 * window in which another process could take it is as short as possible.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error(`could not read the port bound on ${host}`));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}
