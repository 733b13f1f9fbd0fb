/**
 * How much one simulator process sustains: concurrent streams, tokens/s and
 * step-timing jitter (actual − scheduled step end) at that load. The server
 * runs in this process and the client load too (undici, one connection per
 * stream), so the figures are a floor for the server alone.
 */
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { startSimServer } from "../sim/server.ts";
import { printBenchRows } from "./report.ts";

const STREAMS = Number(process.env.SIM_BENCH_STREAMS ?? 4000);
const DURATION_MS = Number(process.env.SIM_BENCH_MS ?? 10_000);
const MODEL = "bench-model";

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const server = await startSimServer({
  model: MODEL,
  maxNumSeqs: STREAMS,
  maxNumBatchedTokens: Math.max(8192, STREAMS),
  // Fast enough that the simulated GPU is not the bottleneck at this many streams.
  simTimeScale: 20,
  enablePrefixCaching: false,
});
const agent = new Agent({ connections: STREAMS + 10, pipelining: 0, keepAliveTimeout: 30_000 });
let tokens = 0;
let completed = 0;
let failed = 0;
let open = 0;
let peakOpen = 0;
const stopAt = performance.now() + DURATION_MS;

async function user(id: number): Promise<void> {
  while (performance.now() < stopAt) {
    open++;
    peakOpen = Math.max(peakOpen, open);
    try {
      const response = await request(`${server.url}/v1/completions`, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: MODEL,
          prompt: `user ${id} asks a short question`,
          max_tokens: 256,
          ignore_eos: true,
          stream: true,
        }),
      });
      for await (const chunk of response.body) {
        // Count chunks by their `data: {` prefix; [DONE] is not a token.
        const text = (chunk as Buffer).toString();
        for (let i = text.indexOf("data: {"); i >= 0; i = text.indexOf("data: {", i + 1)) tokens++;
      }
      completed++;
    } catch {
      failed++;
    } finally {
      open--;
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: STREAMS }, (_, i) => user(i)));
const elapsedS = (performance.now() - started) / 1000;
const jitter = server.jitterMs().sort((a, b) => a - b);
await server.close();
await agent.close();

printBenchRows([
  {
    name: "sim: concurrent streams",
    figure: peakOpen,
    unit: "streams",
    peer: 4000,
    peerName: "goal",
    note: `${failed} failed`,
  },
  {
    name: "sim: tokens/s (one process)",
    figure: tokens / elapsedS,
    unit: "tok/s",
    peer: 50_000,
    peerName: "goal",
    note: `${completed} requests`,
  },
  { name: "sim: step jitter p50", figure: quantile(jitter, 0.5), unit: "ms", peer: null },
  {
    name: "sim: step jitter p99",
    figure: quantile(jitter, 0.99),
    unit: "ms",
    peer: 2,
    peerName: "goal",
  },
]);
