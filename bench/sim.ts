/**
 * How much one simulator process sustains. The server runs in its own process
 * (`vscale sim serve`, as a campaign starts it); this process is only a light
 * client: raw `node:http`, one keep-alive connection per stream, counting SSE
 * events by their newlines without parsing JSON.
 *
 * Two runs of STREAMS closed-loop streams (completions, 256 tokens, ignore_eos):
 * - saturated: `--sim-time-scale 20` asks for far more tokens than one core
 *   can stream, so tokens/s is the server's ceiling;
 * - paced: the time scale is set so the modelled GPU asks for PACED_TOKENS_PER_S;
 *   the server should deliver that and keep its steps on time. Step lateness
 *   (actual − scheduled step end) comes from the server's `GET /sim/stats`,
 *   reset after the warm-up.
 *
 * Env: SIM_BENCH_STREAMS (4000), SIM_BENCH_MS (measured window, 10000),
 * SIM_BENCH_WARMUP_MS (3000), SIM_BENCH_NODE_ARGS (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile the server), SIM_BENCH_SERVER_LOG=1 (show
 * the server's stdout, e.g. with `--trace-gc`), SIM_BENCH_RUNS (`saturated,paced`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, type ClientRequest, request } from "node:http";
import { fileURLToPath } from "node:url";
import { freePort } from "../common/free-port.ts";
import { stepCost } from "../sim/engine/cost-model.ts";
import { PROFILES } from "../sim/engine/profiles.ts";
import type { SimStatsBody } from "../sim/http/debug-stats.ts";
import { printBenchRows } from "./report.ts";

const STREAMS = Number(process.env.SIM_BENCH_STREAMS ?? 4000);
const MEASURE_MS = Number(process.env.SIM_BENCH_MS ?? 10_000);
const WARMUP_MS = Number(process.env.SIM_BENCH_WARMUP_MS ?? 3000);
const NODE_ARGS = (process.env.SIM_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
const RUNS = (process.env.SIM_BENCH_RUNS ?? "saturated,paced").split(",");
const PACED_TOKENS_PER_S = 50_000;
const MAX_TOKENS = 256;
const PROMPT = "user asks a short question";
const MODEL = "bench-model";
const BIN = fileURLToPath(new URL("../bin/vscale.mjs", import.meta.url));
const NEWLINE = 10;

/** Time scale at which STREAMS decoding sequences produce `tokensPerS` on the default profile. */
function timeScaleFor(tokensPerS: number): number {
  const meanContext = 10 + MAX_TOKENS / 2;
  const stepMsAtScale1 = stepCost(
    {
      profile: PROFILES["llama-8b-h100"] as (typeof PROFILES)[string],
      tensorParallelSize: 1,
      serialFraction: 0.08,
      timeScale: 1,
    },
    {
      prefillTokens: 0,
      decodeSeqs: STREAMS,
      contextTokens: STREAMS * meanContext,
      requests: STREAMS,
    },
  ).totalMs;
  return stepMsAtScale1 / ((STREAMS / tokensPerS) * 1000);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds a process has used (Linux /proc; null elsewhere). */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // utime and stime are fields 14 and 15 of stat, in clock ticks (USER_HZ = 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function startServer(port: number, timeScale: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...NODE_ARGS,
      BIN,
      "sim",
      "serve",
      MODEL,
      "--port",
      String(port),
      "--max-num-seqs",
      String(STREAMS),
      "--max-num-batched-tokens",
      String(Math.max(8192, STREAMS)),
      "--no-enable-prefix-caching",
      "--sim-time-scale",
      String(timeScale),
    ],
    { stdio: ["ignore", process.env.SIM_BENCH_SERVER_LOG ? "inherit" : "ignore", "inherit"] },
  );
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`sim serve exited with ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.ok) return child;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  child.kill("SIGKILL");
  throw new Error("sim serve did not become healthy in 30 s");
}

/**
 * The machine's own timer noise, measured meanwhile by an idle Node process that waits
 * the way the simulator's step loop does (a timer to 1 ms before, then setImmediate).
 * On a shared machine this floor, not the simulator, may dominate step lateness.
 */
const TIMER_FLOOR_SCRIPT = `
const lateness = [];
const stopAt = performance.now() + Number(process.argv[1]);
function wait(target) {
  const left = target - performance.now();
  if (left <= 0) return step(target);
  if (left > 1) setTimeout(() => wait(target), left - 1);
  else setImmediate(() => wait(target));
}
function step(target) {
  lateness.push(performance.now() - target);
  if (performance.now() < stopAt) wait(performance.now() + 20);
  else {
    lateness.sort((a, b) => a - b);
    const q = (p) => lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))];
    process.stdout.write(JSON.stringify({ p50: q(0.5), p99: q(0.99) }));
  }
}
wait(performance.now() + 20);
`;

function measureTimerFloor(ms: number): Promise<{ p50: number; p99: number }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["-e", TIMER_FLOOR_SCRIPT, String(ms)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("error", fail);
    child.on("exit", () => {
      try {
        done(JSON.parse(out) as { p50: number; p99: number });
      } catch (error) {
        fail(error);
      }
    });
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

interface RunResult {
  peakOpen: number;
  tokensPerS: number;
  completed: number;
  failed: number;
  stats: SimStatsBody;
  serverCpuShare: number | null;
  timerFloor: { p50: number; p99: number };
}

async function runLoad(timeScale: number): Promise<RunResult> {
  const port = await freePort();
  const child = await startServer(port, timeScale);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const body = JSON.stringify({
    model: MODEL,
    prompt: PROMPT,
    max_tokens: MAX_TOKENS,
    ignore_eos: true,
    stream: true,
  });
  const inFlight = new Set<ClientRequest>();
  let stopping = false;
  let counting = false;
  let newlines = 0;
  let dones = 0;
  let completed = 0;
  let failed = 0;
  let open = 0;
  let peakOpen = 0;

  // One streamed request; every SSE event ends in exactly two newlines (JSON escapes its own).
  const once = () =>
    new Promise<void>((done) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/v1/completions",
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.on("data", (chunk: Buffer) => {
            if (!counting) return;
            for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, i + 1))
              newlines++;
          });
          res.on("end", () => {
            if (counting) dones++;
            completed++;
            finish();
          });
          res.on("error", () => finish());
        },
      );
      open++;
      peakOpen = Math.max(peakOpen, open);
      inFlight.add(req);
      const finish = () => {
        if (!inFlight.delete(req)) return;
        open--;
        done();
      };
      req.on("error", () => {
        if (!stopping) failed++;
        finish();
      });
      req.on("close", finish);
      req.end(body);
    });

  const users = Array.from({ length: STREAMS }, async () => {
    while (!stopping) await once();
  });
  const statsUrl = `http://127.0.0.1:${port}/sim/stats`;
  try {
    await sleep(WARMUP_MS);
    await fetch(`${statsUrl}/reset`, { method: "POST" });
    counting = true;
    const cpuStart = cpuSeconds(child.pid as number);
    const started = performance.now();
    const floor = measureTimerFloor(MEASURE_MS);
    await sleep(MEASURE_MS);
    counting = false;
    const elapsedS = (performance.now() - started) / 1000;
    const cpuEnd = cpuSeconds(child.pid as number);
    const stats = (await (await fetch(statsUrl)).json()) as SimStatsBody;
    return {
      peakOpen,
      tokensPerS: (newlines / 2 - dones) / elapsedS,
      completed,
      failed,
      stats,
      serverCpuShare: cpuStart === null || cpuEnd === null ? null : (cpuEnd - cpuStart) / elapsedS,
      timerFloor: await floor,
    };
  } finally {
    stopping = true;
    for (const req of inFlight) req.destroy();
    await Promise.all(users);
    agent.destroy();
    await stopServer(child);
  }
}

const cpuNote = (share: number | null) =>
  share === null ? "" : `, server CPU ${(share * 100).toFixed(0)}% of a core`;
/** The server's own count over its window, to cross-check the client's. */
const serverNote = (stats: SimStatsBody) =>
  `, server made ${Math.round(stats.generationTokens / stats.seconds).toLocaleString("en-US")} tok/s`;

const rows: Parameters<typeof printBenchRows>[0] = [];
if (RUNS.includes("saturated")) {
  const run = await runLoad(20);
  rows.push(
    {
      name: "sim: tokens/s saturated (server process)",
      figure: run.tokensPerS,
      unit: "tok/s",
      peer: 50_000,
      peerName: "goal",
      note: `${STREAMS} streams, time scale 20${serverNote(run.stats)}${cpuNote(run.serverCpuShare)}`,
    },
    {
      name: "sim: step jitter p99 saturated",
      figure: run.stats.jitterMs.p99 ?? Number.NaN,
      unit: "ms",
      peer: null,
      note: `${run.stats.jitterMs.count} steps`,
    },
  );
}
if (RUNS.includes("paced")) {
  const timeScale = timeScaleFor(PACED_TOKENS_PER_S);
  const run = await runLoad(timeScale);
  rows.push(
    {
      name: "sim: concurrent streams",
      figure: run.peakOpen,
      unit: "streams",
      peer: STREAMS,
      peerName: "goal",
      note: `${run.failed} failed`,
    },
    {
      name: "sim: tokens/s paced",
      figure: run.tokensPerS,
      unit: "tok/s",
      peer: PACED_TOKENS_PER_S,
      peerName: "modelled GPU",
      note: `time scale ${timeScale.toFixed(2)}${serverNote(run.stats)}${cpuNote(run.serverCpuShare)}`,
    },
    {
      name: "sim: step jitter p50 paced",
      figure: run.stats.jitterMs.p50 ?? Number.NaN,
      unit: "ms",
      peer: run.timerFloor.p50,
      peerName: "idle node timer",
    },
    {
      name: "sim: step jitter p99 paced",
      figure: run.stats.jitterMs.p99 ?? Number.NaN,
      unit: "ms",
      peer: 2,
      peerName: "goal",
      note: `${run.stats.jitterMs.count} steps, max ${run.stats.jitterMs.max?.toFixed(1)} ms`,
    },
    {
      name: "sim: timer noise floor p99 (idle node)",
      figure: run.timerFloor.p99,
      unit: "ms",
      peer: 2,
      peerName: "goal",
      note: "same wait as the step loop, in a separate idle process, same window",
    },
  );
}
printBenchRows(rows);
