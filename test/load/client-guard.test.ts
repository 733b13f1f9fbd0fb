/**
 * The saturation guard against a fast planted server in its own process:
 * one worker driving far too many streams is flagged client-limited; a light
 * run is not. Also the thresholds as written (docs/load.md).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_LIMITS, clientGuard } from "../../load/client-guard.ts";
import { runLoad } from "../../load/node/workers.ts";
import { readRecords, runOptions, tempDir } from "./helpers.ts";
import { type PlantedProcess, startPlantedProcess } from "./planted-process.ts";

let dir: string;
let cleanup: () => Promise<void>;
let server: PlantedProcess;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  // Instant answers from two processes: every stream is back at once and the server outpaces
  // one client worker (the client's own HTTP/1.1 is cheap enough that one server process could
  // keep it waiting), so only the client can hold it up.
  server = await startPlantedProcess({ ttftMs: 0, itlMs: 0, tokens: 16 }, 2);
});
afterAll(async () => {
  await server.stop();
  await cleanup();
});

describe("saturation guard", () => {
  it("one worker, far too many streams: client_limited", async () => {
    const result = await runLoad({
      ...runOptions(server.url, join(dir, "heavy.ndjson"), {
        schedule: { mode: "closed", users: 1500, thinkTimeMs: 0 },
        durationMs: 1_500,
        maxTokens: 16,
        timeoutMs: 30_000,
      }),
      workers: 1,
    });
    const g = result.client!;
    expect(g.workers).toBe(1);
    expect(g.limited).toBe(true);
    expect(g.reasons.length).toBeGreaterThan(0);
    expect(g.cpu_pct).toBeGreaterThan(CLIENT_LIMITS.cpuPct);
    expect(g.read_wait_ms_p99).not.toBeNull();
  });

  // On a host whose cores other processes hold, even a light run's timers fire late and the
  // guard says so (truthfully); a retry tells a busy moment of a shared CI host from a guard
  // that flags light runs, which fails every attempt.
  it("a light run is not flagged", { retry: 2 }, async () => {
    const result = await runLoad({
      ...runOptions(server.url, join(dir, "light.ndjson"), {
        schedule: { mode: "closed", users: 2, thinkTimeMs: 10 },
        durationMs: 1_000,
        maxTokens: 16, // the planted answer's length: more would be an impossible usage
      }),
      workers: 1,
    });
    const g = result.client!;
    expect(result.counters.completed).toBeGreaterThan(20);
    expect(g.send_lag_ms_p99).not.toBeNull();
    expect(g.read_wait_ms_p99).not.toBeNull();
    expect(g.reasons).toEqual([]);
    expect(g.limited).toBe(false);
  });

  // The warm-up's start-up burst (every user due at once) is late by design; the guard judges
  // only sends due in the measured window.
  it("send lag counts only sends due in the measured window", async () => {
    const out = join(dir, "warm.ndjson");
    const result = await runLoad({
      ...runOptions(server.url, out, {
        schedule: { mode: "closed", users: 4, thinkTimeMs: 10 },
        warmupMs: 300,
        durationMs: 600,
        maxTokens: 16, // the planted answer's length
      }),
      workers: 1,
    });
    const records = await readRecords(out);
    const inWindow = records.filter((r) => !r.warmup).length;
    expect(records.length - inWindow).toBeGreaterThan(0);
    const samples = result.client!.per_worker[0]!.send_lag_samples;
    expect(samples).toBeGreaterThan(0);
    expect(samples).toBeLessThanOrEqual(inWindow);
  });

  it("thresholds: the worst worker decides, and each figure alone can flag", () => {
    const calm = { loop_lag_ms_p99: 1, send_lag_ms_p99: 1, cpu_pct: 20, send_lag_samples: 9 };
    expect(clientGuard([calm, calm]).limited).toBe(false);
    const late = { ...calm, send_lag_ms_p99: CLIENT_LIMITS.sendLagMsP99 + 1 };
    const g = clientGuard([calm, late]);
    expect(g.limited).toBe(true);
    expect(g.send_lag_ms_p99).toBe(CLIENT_LIMITS.sendLagMsP99 + 1);
    expect(clientGuard([{ ...calm, loop_lag_ms_p99: 50 }]).reasons[0]).toMatch(/event-loop/);
    expect(clientGuard([{ ...calm, cpu_pct: 99 }]).reasons[0]).toMatch(/CPU/);
    const behind = clientGuard([calm, { ...calm, read_wait_ms_p99: 19.2 }]);
    expect(behind.reasons).toEqual([`read wait p99 19.2 ms > ${CLIENT_LIMITS.readWaitMsP99} ms`]);
    expect(behind.read_wait_ms_p99).toBe(19.2);
    // Workers from records written before the read wait: unknown, not a pass.
    expect(clientGuard([calm]).read_wait_ms_p99).toBeNull();
    // Missing figures are unknown, never a pass made of zeros.
    expect(clientGuard([{ ...calm, cpu_pct: null }]).cpu_pct).toBeNull();
  });
});
