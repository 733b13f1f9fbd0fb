import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// The engine's own client over TLS (a target behind an https ingress): a
// self-signed certificate for localhost, trusted the way users trust a private
// CA (NODE_EXTRA_CA_CERTS, read at process start, hence a child process).
const openssl = spawnSync("openssl", ["version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "vscale-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const child = `
import { Http1Pool } from "./load/node/http1-pool.ts";
const pool = new Http1Pool(process.argv[1], 2000);
let body = "";
pool.request({ path: "/v1/chat/completions", headers: { "content-type": "application/json" }, body: "{}" }, {
  onHead: (h) => { body += "status=" + h.status + ";"; },
  onBody: (b) => { body += b.toString("utf8"); },
  onComplete: () => { console.log(body); pool.destroy(); },
  onError: (e) => { console.log("error " + e.message); pool.destroy(); },
});
`;

describe.skipIf(!openssl)("Http1Pool over TLS", () => {
  it("streams a chunked response from an https server whose CA the process trusts", async () => {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { stdio: "ignore" },
    );
    const server = createServer(
      { key: readFileSync(key), cert: readFileSync(cert) },
      (req, res) => {
        req.resume();
        req.on("end", () => {
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write("data: a\n\n");
          setTimeout(() => res.end("data: [DONE]\n\n"), 10);
        });
      },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `https://localhost:${(server.address() as AddressInfo).port}`;
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(
          process.execPath,
          ["--import", "tsx", "--input-type=module", "-e", child, url],
          {
            env: { ...process.env, NODE_EXTRA_CA_CERTS: cert },
            stdio: ["ignore", "pipe", "inherit"],
          },
        );
        let s = "";
        p.stdout.on("data", (d: Buffer) => {
          s += d;
        });
        p.on("error", reject);
        p.on("close", () => resolve(s.trim()));
      });
      expect(out).toBe("status=200;data: a\n\ndata: [DONE]");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
