/**
 * The Node engine against a fast planted streaming server (its own process):
 * sustained streams and output tokens/s on one core, and TTFT error at 128,
 * 512 and 2,048 concurrent streams. Two errors are reported: measured −
 * planted (includes the server's own timer lateness) and the engine's lag
 * (when the client saw the first text − when the server wrote it, both on the
 * epoch clock of the same machine). Goal: error p99 ≤ 1 ms at 512 streams.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { runNodeLoad } from "../load/node/run.ts";
import { summarizeRequestsFile } from "../load/summary.ts";
import { quantileSorted } from "../stats/quantile.ts";
import { readRecords } from "../test/load/helpers.ts";
import type { Plan, RequestStat } from "../test/load/planted-server.ts";
import { type BenchRow, printBenchRows } from "./report.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PLAN: Plan = { ttftMs: 100, itlMs: 25, tokens: 32 };
const CONCURRENCY = (process.env.VSCALE_BENCH_LOAD_STREAMS ?? "128,512,2048")
  .split(",")
  .map(Number);
const WARMUP_MS = 1_500;
const DURATION_MS = 5_000;

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "test/load/planted-server-main.ts"), JSON.stringify(PLAN)],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((done, fail) => {
    lines.once("line", done);
    child.once("exit", (code) => fail(new Error(`planted server exited with ${code}`)));
  });
  const { url } = JSON.parse(first) as { url: string };
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

async function runAt(url: string, streams: number, dir: string): Promise<BenchRow[]> {
  const out = join(dir, `requests-${streams}.ndjson`);
  const inFlight: number[] = [];
  const result = await runNodeLoad({
    url,
    model: "planted-model",
    api: "chat",
    experimentId: `bench-${streams}`,
    promptSet: {
      name: "bench",
      source: "file",
      prompts: [{ id: "L1", text: "Say hello.", messages: null, tokens: null }],
      tokensEstimated: false,
    },
    schedule: { mode: "closed", users: streams, thinkTimeMs: 0 },
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    maxTokens: PLAN.tokens ?? 32,
    stream: true,
    ignoreEos: true,
    temperature: 0,
    timeoutMs: 60_000,
    seed: 1,
    drain: false,
    outFile: out,
    onProgress: (c) => {
      // Samples inside the window only (the last ones come after the hard stop).
      if (!c.inWarmup && c.elapsedMs < WARMUP_MS + DURATION_MS) inFlight.push(c.inFlight);
    },
  });
  const stats = (await (await request(`${url}/stats`)).body.json()) as RequestStat[];
  const written = new Map(stats.map((s) => [s.requestId, s.firstTextUs]));
  const records = (await readRecords(out)).filter((r) => r.ok && !r.warmup && r.ttft_ms !== null);
  const errorMs = sorted(records.map((r) => r.ttft_ms! - PLAN.ttftMs));
  const lagMs = sorted(
    records.flatMap((r) => {
      const w = written.get(r.request_id);
      return w == null ? [] : [(r.start_us + r.ttft_ms! * 1000 - w) / 1000];
    }),
  );
  const summary = await summarizeRequestsFile(out, result.windowStartUs, result.windowEndUs);
  const e2eMs = PLAN.ttftMs + PLAN.itlMs * ((PLAN.tokens ?? 32) - 1);
  const idealTokPerS = (streams * (PLAN.tokens ?? 32) * 1000) / e2eMs;
  const meanInFlight = inFlight.reduce((a, b) => a + b, 0) / Math.max(1, inFlight.length);
  const note = `${records.length} requests`;
  return [
    {
      name: `load: sustained streams @${streams}`,
      figure: meanInFlight,
      unit: "streams",
      peer: streams,
      peerName: "users",
      note,
    },
    {
      name: `load: output tok/s @${streams}`,
      figure: summary.outputTokPerS ?? Number.NaN,
      unit: "tok/s",
      peer: idealTokPerS,
      peerName: "planted ideal",
      note,
    },
    {
      name: `load: TTFT error p50 @${streams}`,
      figure: quantileSorted(errorMs, 0.5),
      unit: "ms",
      peer: null,
      peerName: "measured − planted",
      note,
    },
    {
      name: `load: TTFT error p99 @${streams}`,
      figure: quantileSorted(errorMs, 0.99),
      unit: "ms",
      peer: 1,
      peerName: "goal",
      note,
    },
    {
      name: `load: engine lag p50 @${streams}`,
      figure: quantileSorted(lagMs, 0.5),
      unit: "ms",
      peer: null,
      peerName: "seen − written",
      note,
    },
    {
      name: `load: engine lag p99 @${streams}`,
      figure: quantileSorted(lagMs, 0.99),
      unit: "ms",
      peer: 1,
      peerName: "goal",
      note,
    },
  ];
}

const dir = await mkdtemp(join(tmpdir(), "vscale-bench-load-"));
const server = await startServer();
try {
  for (const streams of CONCURRENCY) {
    console.error(`bench/load: ${streams} streams …`);
    printBenchRows(await runAt(server.url, streams, dir));
  }
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
