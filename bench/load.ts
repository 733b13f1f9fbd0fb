/**
 * The Node engine against a planted streaming server in its own processes
 * (TTFT 50 ms, ITL 10 ms, 20 tokens: each stream's ideal is one request per
 * 0.24 s), the setting of issue 12's peer table. For each streams × workers
 * cell: share of ideal (measured req/s ÷ streams / 0.24 s), TTFT error p50 and
 * p99 (measured − planted), that error taken apart with the server's own
 * times of each request (its lateness against the plan; request sent → read
 * by the server; first token written → read by the client, the client's own
 * share), and the saturation guard's figures; then the
 * events/s one core parses (the cheap text-chunk path against a full
 * JSON.parse of every event, the path before it).
 *
 *   VSCALE_BENCH_LOAD_STREAMS=16,128,512,2048,8192 VSCALE_BENCH_LOAD_WORKERS=1,2,4,8 \
 *   VSCALE_BENCH_LOAD_SERVER_PROCS=8 npx tsx bench/load.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad } from "../load/node/workers.ts";
import { summarizeRequestsFile } from "../load/summary.ts";
import { parseStreamPayload } from "../load/workload/openai-stream.ts";
import { ResponseTracker } from "../load/workload/response-tracker.ts";
import { SseParser } from "../load/workload/sse.ts";
import { quantileSorted } from "../stats/quantile.ts";
import { readRecords } from "../test/load/helpers.ts";
import { type PlantedProcess, startPlantedProcess } from "../test/load/planted-process.ts";
import type { Plan } from "../test/load/planted-server.ts";
import { type BenchRow, printBenchRows } from "./report.ts";

const PLAN: Plan = { ttftMs: 50, itlMs: 10, tokens: 20 };
const E2E_S = (PLAN.ttftMs + PLAN.itlMs * ((PLAN.tokens ?? 20) - 1)) / 1000;
const list = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(",").map(Number);
const STREAMS = list("VSCALE_BENCH_LOAD_STREAMS", "16,128,512");
const WORKERS = list("VSCALE_BENCH_LOAD_WORKERS", "1,2");
const SERVER_PROCS = Number(process.env.VSCALE_BENCH_LOAD_SERVER_PROCS ?? "1");
const WARMUP_MS = 1_000;
const DURATION_MS = Number(process.env.VSCALE_BENCH_LOAD_WINDOW_MS ?? "4000");
/** vscale's own row of issue 12's table (one client on one core, 16-core machine). */
const ISSUE_SHARE: Record<number, number> = { 16: 0.96, 128: 0.96, 512: 0.87, 2048: 0.44 };
const MACHINE = `${availableParallelism()} cores`;

/** p50 and p99 of `values` (ms), NaN when there are none. */
function p50p99(values: number[]): [number, number] {
  if (values.length === 0) return [Number.NaN, Number.NaN];
  const sorted = values.sort((a, b) => a - b);
  return [quantileSorted(sorted, 0.5), quantileSorted(sorted, 0.99)];
}

async function cell(server: PlantedProcess, streams: number, workers: number, dir: string) {
  const url = server.url;
  const out = join(dir, `r-${streams}-${workers}.ndjson`);
  const result = await runLoad({
    url,
    model: "planted-model",
    api: "chat",
    experimentId: `bench-${streams}-${workers}`,
    promptSet: {
      name: "bench",
      source: "file",
      prompts: [{ id: "L1", text: "Say hello.", messages: null, tokens: null }],
      tokensEstimated: false,
    },
    schedule: { mode: "closed", users: streams, thinkTimeMs: 0 },
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    maxTokens: PLAN.tokens ?? 20,
    stream: true,
    ignoreEos: true,
    temperature: 0,
    timeoutMs: 60_000,
    seed: 1,
    drain: false,
    outFile: out,
    workers,
  });
  const summary = await summarizeRequestsFile(out, result.windowStartUs, result.windowEndUs);
  const measured = (await readRecords(out)).filter((r) => r.ok && !r.warmup && r.ttft_ms !== null);
  const ttfts = measured.map((r) => (r.ttft_ms as number) - PLAN.ttftMs).sort((a, b) => a - b);
  // The same requests as the server saw them (joined on x-request-id; epoch µs on both sides,
  // one host's clock): where the TTFT error arose.
  const seen = new Map((await server.takeStats()).map((s) => [s.requestId, s]));
  const lateness: number[] = [];
  const toServer: number[] = [];
  const toClient: number[] = [];
  for (const r of measured) {
    const s = seen.get(r.request_id as string);
    if (!s || s.firstTextUs === null) continue;
    const startUs = r.start_us as number;
    lateness.push((s.firstTextUs - s.receivedUs) / 1000 - PLAN.ttftMs);
    toServer.push((s.receivedUs - startUs) / 1000);
    toClient.push((startUs + (r.ttft_ms as number) * 1000 - s.firstTextUs) / 1000);
  }
  const parts: [string, string, number[]][] = [
    ["server lateness", "server's first-token write − received − planted TTFT", lateness],
    ["sent → server read", "server's receipt − client's send", toServer],
    [
      "client read delay",
      "client's first-token read − server's write (the client's share)",
      toClient,
    ],
  ];
  const share = (summary.reqPerS ?? 0) / (streams / E2E_S);
  const g = result.client;
  const tag = `@${streams} streams ×${workers}w`;
  const note = `${ttfts.length} requests; ${MACHINE}, server ${SERVER_PROCS} proc${g?.limited ? "; CLIENT-LIMITED" : ""}`;
  const rows: BenchRow[] = [
    {
      name: `load: share of ideal ${tag}`,
      figure: share,
      unit: "×ideal",
      peer: workers === 1 ? (ISSUE_SHARE[streams] ?? null) : null,
      peerName: "issue 12 vscale, 1 core",
      note,
    },
    {
      name: `load: TTFT error p50 ${tag}`,
      figure: ttfts.length ? quantileSorted(ttfts, 0.5) : Number.NaN,
      unit: "ms",
      peer: null,
      peerName: "measured − planted",
      note,
    },
    {
      name: `load: TTFT error p99 ${tag}`,
      figure: ttfts.length ? quantileSorted(ttfts, 0.99) : Number.NaN,
      unit: "ms",
      peer: null,
      peerName: "measured − planted",
      note,
    },
    ...parts.flatMap(([part, peerName, values]) => {
      const [p50, p99] = p50p99(values);
      const partNote = `${values.length} of ${ttfts.length} joined; ${note}`;
      return [
        {
          name: `load: ${part} p50 ${tag}`,
          figure: p50,
          unit: "ms",
          peer: null,
          peerName,
          note: partNote,
        },
        {
          name: `load: ${part} p99 ${tag}`,
          figure: p99,
          unit: "ms",
          peer: null,
          peerName,
          note: partNote,
        },
      ];
    }),
    {
      name: `load: guard loop lag p99 ${tag}`,
      figure: g?.loop_lag_ms_p99 ?? Number.NaN,
      unit: "ms",
      peer: null,
      note,
    },
    {
      name: `load: guard send lag p99 ${tag}`,
      figure: g?.send_lag_ms_p99 ?? Number.NaN,
      unit: "ms",
      peer: null,
      note,
    },
    {
      // What the client's read delay (above, from the server's own stamps) would be, as the
      // guard sees it alone: the two should rise together.
      name: `load: guard read wait p99 ${tag}`,
      figure: g?.read_wait_ms_p99 ?? Number.NaN,
      unit: "ms",
      peer: toClient.length > 0 ? p50p99(toClient)[1] : null,
      peerName: "client read delay p99",
      note,
    },
    {
      name: `load: guard CPU ${tag}`,
      figure: g?.cpu_pct ?? Number.NaN,
      unit: "%",
      peer: null,
      note,
    },
    {
      name: `load: client_limited ${tag}`,
      figure: g?.limited ? 1 : 0,
      unit: "flag",
      peer: null,
      note: g?.reasons.join("; ") || note,
    },
  ];
  return rows;
}

/** Events/s one core handles: the engine's path (ResponseTracker) and the full-parse path it replaced. */
function eventsPerCore(): BenchRow[] {
  const chunk = (t: string) =>
    `data: ${JSON.stringify({ id: "chatcmpl-8f3a", object: "chat.completion.chunk", created: 1733000000, model: "meta-llama/Llama-3.1-8B-Instruct", choices: [{ index: 0, delta: { content: t }, logprobs: null, finish_reason: null }] })}\n\n`;
  const chunks = Array.from({ length: 64 }, (_, i) => chunk(` tok${i}`));
  const run = (feed: (c: string, n: number) => void, reset: () => void) => {
    const n = 300_000;
    let done = 0;
    const t0 = performance.now();
    while (done < n) {
      reset();
      for (const c of chunks) feed(c, done++);
    }
    return (n / (performance.now() - t0)) * 1000;
  };
  let tracker = new ResponseTracker("chat", true);
  let parser = new SseParser();
  const times: number[] = [];
  const best = (f: () => number) => Math.max(f(), f(), f());
  const fast = best(() =>
    run(
      (c, n) => tracker.onData(c, n),
      () => {
        tracker = new ResponseTracker("chat", true);
        tracker.onHeaders(200, "text/event-stream");
      },
    ),
  );
  const full = best(() =>
    run(
      (c, n) => {
        for (const e of parser.push(c)) {
          const p = parseStreamPayload("chat", e.data);
          if (p.kind === "chunk" && p.text !== "") times.push(n);
        }
      },
      () => {
        parser = new SseParser();
        times.length = 0;
      },
    ),
  );
  return [
    {
      name: "load: SSE events/s per core",
      figure: fast,
      unit: "events/s",
      peer: full,
      peerName: "JSON.parse every event (same SSE parser)",
      note: `vLLM-shaped chunks; ${MACHINE}`,
    },
  ];
}

printBenchRows(eventsPerCore());
const dir = await mkdtemp(join(tmpdir(), "vscale-bench-load-"));
const server = await startPlantedProcess(PLAN, SERVER_PROCS);
try {
  for (const streams of STREAMS) {
    for (const workers of WORKERS) {
      console.error(`bench/load: ${streams} streams, ${workers} worker(s) …`);
      printBenchRows(await cell(server, streams, workers, dir));
    }
  }
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
