import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, MODEL, pieces, postJson, sim, stream } from "./helpers.ts";

const BIN = resolve(import.meta.dirname, "../../bin/vscale.mjs");
const body = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  prompt: "fault probe",
  max_tokens: 20,
  ignore_eos: true,
  ...extra,
});

describe("fault injection", () => {
  it("--sim-fail-rate answers that fraction with 500 (seeded)", async () => {
    const server = await sim({ simFailRate: 0.5, seed: 11 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++)
        statuses.push(
          (await postJson(server.url, "/v1/completions", body({ max_tokens: 1 }))).status,
        );
      const failed = statuses.filter((s) => s === 500).length;
      expect(failed).toBeGreaterThan(8);
      expect(failed).toBeLessThan(32);
      expect(statuses.every((s) => s === 200 || s === 500)).toBe(true);
    } finally {
      await server.close();
    }
    const never = await sim({ simFailRate: 0 });
    try {
      for (let i = 0; i < 10; i++)
        expect((await postJson(never.url, "/v1/completions", body({ max_tokens: 1 }))).status).toBe(
          200,
        );
    } finally {
      await never.close();
    }
  });

  it("--sim-truncate-rate 1 cuts every stream after half its tokens, without [DONE]", async () => {
    const server = await sim({ simTruncateRate: 1 });
    try {
      const result = await stream(server.url, "/v1/completions", body());
      expect(result.done).toBe(false);
      expect(pieces(result.chunks)).toHaveLength(10);
      expect(result.error).toBeDefined();
      for (let i = 0; i < 50 && server.activeRequests() > 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(server.engines[0]?.kv.usedBlocks()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("--sim-stall-ms pauses each stream after its first token", async () => {
    const server = await sim({ simStallMs: 300, simTimeScale: 50 });
    try {
      const result = await stream(server.url, "/v1/completions", body({ max_tokens: 6 }));
      expect(result.done).toBe(true);
      const times = result.events.map((e) => e.atMs);
      expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(290);
    } finally {
      await server.close();
    }
  });

  it("--sim-startup-delay: health fails until the delay has passed", async () => {
    const server = await sim({ simStartupDelayMs: 400 });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(503);
      await new Promise((r) => setTimeout(r, 500));
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("--sim-crash-after N: the process exits with code 1 mid-stream", async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        BIN,
        "sim",
        "serve",
        MODEL,
        "--port",
        String(port),
        "--sim-crash-after",
        "3",
        "--sim-time-scale",
        "5",
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
      });
      for (let i = 0; i < 200 && !out.includes("serving"); i++)
        await new Promise((r) => setTimeout(r, 50));
      const url = `http://127.0.0.1:${port}`;
      const results = await Promise.all(
        [1, 2, 3].map(() => stream(url, "/v1/completions", body({ max_tokens: 500 }))),
      );
      expect(await exited).toBe(1);
      // Streams were cut mid-way: none finished.
      for (const r of results) expect(r.done).toBe(false);
      expect(results.some((r) => r.status === 200)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("the crash fault in-process drops open streams and counts nothing as done", async () => {
    const server = await sim({ simCrashAfter: 2, simTimeScale: 5 });
    try {
      const results = await Promise.all([
        stream(server.url, "/v1/completions", body({ max_tokens: 300 })),
        stream(server.url, "/v1/completions", body({ max_tokens: 300 })),
      ]);
      for (const r of results) {
        expect(r.done).toBe(false);
        expect(pieces(r.chunks).length).toBeLessThan(300);
      }
    } finally {
      await server.close();
    }
  });
});
