/**
 * The simulated `vllm serve`, composed: one engine per data-parallel replica,
 * each driven in real time by a RealtimeLoop; the token bridge
 * (token-bridge.ts) turns steps into streams; the routes (http/routes.ts)
 * mirror vLLM's OpenAI server; metrics use vLLM's names.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { ServerError } from "../common/errors.ts";
import { RealtimeLoop } from "./engine/realtime-loop.ts";
import { pickLeastLoaded } from "./engine/router.ts";
import { Engine, type StepOutcome, type StepPlan } from "./engine/scheduler.ts";
import { FaultInjector } from "./faults.ts";
import type { ServingContext } from "./http/openai.ts";
import { createRouter } from "./http/routes.ts";
import { StreamFlusher } from "./http/stream-flusher.ts";
import { cacheConfigLabels, SimMetrics } from "./metrics.ts";
import {
  MIMICKED_VLLM_VERSION,
  type ResolvedSim,
  resolveSimOptions,
  type SimOptions,
} from "./options.ts";
import { ServerProfilers } from "./profiling/recorder.ts";
import { TokenStreamBridge } from "./token-bridge.ts";

export type { SimOptions } from "./options.ts";

/** One step as it happened, for tests and debugging (`recordSteps`). */
export interface StepRecord {
  replica: number;
  /** The pipeline lane (engine index); equals `replica` without PP. */
  lane: number;
  startMs: number;
  endMs: number;
  scheduledMs: number;
  prefillTokens: number;
  decodeSeqs: number;
  /** Request ids that received a token at the end of this step. */
  tokenIds: string[];
}

export interface SimServerHooks {
  /** Where log lines go; default: nowhere (the CLI passes console.log). */
  log?: (line: string) => void;
  /** What `--sim-crash-after` does; default: drop every connection and stop listening. */
  onCrash?: () => void;
}

export interface SimServer {
  url: string;
  port: number;
  close(): Promise<void>;
  readonly options: ResolvedSim;
  readonly engines: readonly Engine[];
  /** Steps recorded when `recordSteps` is on; the engine clock is `performance.now()`. */
  steps(): StepRecord[];
  /** Step-end lateness samples (actual − scheduled, ms) across replicas. */
  jitterMs(): number[];
  /** Streams currently open. */
  activeRequests(): number;
}

export async function startSimServer(
  options: Partial<SimOptions> & { model: string },
  hooks: SimServerHooks = {},
): Promise<SimServer> {
  const sim = resolveSimOptions({ port: 0, ...options });
  const log = hooks.log ?? (() => {});
  const now = () => performance.now();
  const metrics = new SimMetrics(
    sim.servedNames[0] as string,
    sim.dataParallelSize,
    sim.maxModelLenResolved,
    cacheConfigLabels(sim),
  );
  const faults = new FaultInjector(sim);
  const flusher = new StreamFlusher();
  const sockets = new Set<Socket>();
  const stepLog: StepRecord[] = [];
  let requestNumber = 0;
  let ready = sim.simStartupDelayMs === 0;
  let closed = false;

  // Pipeline parallelism: vLLM V1 keeps PP micro-batches in flight, each crossing every
  // stage. Modelled as PP lanes per replica, each a full pipeline pass per step with a
  // PP-th of the sequences and KV blocks: per-request ITL is the whole pipeline's, and
  // the replica completes PP batches per pass (no bubbles).
  const pp = sim.pipelineParallelSize;
  const replicaOf = (lane: number) => Math.floor(lane / pp);
  const engines = Array.from(
    { length: sim.dataParallelSize * pp },
    () =>
      new Engine({
        maxNumSeqs: Math.ceil(sim.maxNumSeqs / pp),
        maxNumBatchedTokens: sim.maxNumBatchedTokensResolved,
        enableChunkedPrefill: sim.enableChunkedPrefill,
        enablePrefixCaching: sim.enablePrefixCaching,
        blockSize: sim.blockSize,
        numGpuBlocks: Math.floor(sim.numGpuBlocks / pp),
        cost: {
          profile: sim.profile,
          tensorParallelSize: sim.tensorParallelSize,
          pipelineParallelSize: pp,
          serialFraction: sim.simSerialFraction ?? 0,
          fitted: sim.stepProfile ?? undefined,
          timeScale: sim.simTimeScale,
          scheduleDelayMs: sim.simScheduleDelayMs,
        },
      }),
  );
  const profilers = new ServerProfilers(
    sim,
    (engines[0] as Engine).config.cost,
    engines.length,
    log,
    now,
  );
  const lanesOf = (replica: number) => engines.slice(replica * pp, (replica + 1) * pp);
  const loops = engines.map(
    (engine, lane) => new RealtimeLoop(engine, (plan, outcome) => onStep(lane, plan, outcome), now),
  );

  const ctx: ServingContext = {
    servedNames: sim.servedNames,
    maxModelLen: sim.maxModelLenResolved,
    meanOutputTokens: sim.profile.meanOutputTokens,
    seed: sim.seed,
    nextRequestNumber: () => requestNumber++,
  };

  // The `/sim/stats` window: steps and tokens since the last reset.
  const statsWindow = { steps: 0, generationTokens: 0, startMs: now() };

  // Per-interval stats for the log line, per replica.
  const interval = Array.from({ length: sim.dataParallelSize }, () => ({
    prompt: 0,
    generation: 0,
    queries: 0,
    hits: 0,
  }));

  function crash(): void {
    if (hooks.onCrash) {
      hooks.onCrash();
      return;
    }
    for (const loop of loops) loop.stop();
    for (const socket of sockets) socket.destroy();
    server.close();
  }

  function onStep(lane: number, plan: StepPlan, outcome: StepOutcome): void {
    const replica = replicaOf(lane);
    const state = replicaState(replica);
    metrics.recordStep(replica, plan, outcome);
    metrics.recordState(replica, state.running, state.waiting, state.kvUsage);
    const stats = interval[replica] as (typeof interval)[number];
    stats.prompt += outcome.promptTokens;
    stats.generation += outcome.generationTokens;
    stats.queries += plan.prefixQueries;
    stats.hits += plan.prefixHits;
    statsWindow.steps++;
    statsWindow.generationTokens += outcome.generationTokens;
    if (sim.recordSteps) {
      stepLog.push({
        replica,
        lane,
        startMs: plan.startMs,
        endMs: outcome.endMs,
        scheduledMs: plan.cost.totalMs,
        prefillTokens: plan.batch.prefillTokens,
        decodeSeqs: plan.batch.decodeSeqs,
        tokenIds: outcome.tokens.map((t) => t.seq.id),
      });
    }
    profilers.onStep(lane, replica, engines[lane] as Engine, plan, outcome);
    bridge.onStep(lane, plan, outcome);
  }

  /** A replica's scheduler state: its lanes summed (KV use: blocks used over blocks). */
  function replicaState(replica: number) {
    let running = 0;
    let waiting = 0;
    let used = 0;
    let blocks = 0;
    for (const engine of lanesOf(replica)) {
      running += engine.numRunning;
      waiting += engine.numWaiting;
      used += engine.kv.usage() * engine.kv.numBlocks;
      blocks += engine.kv.numBlocks;
    }
    return { running, waiting, kvUsage: blocks > 0 ? used / blocks : 0 };
  }

  const bridge = new TokenStreamBridge({
    engines,
    metrics,
    faults,
    flusher,
    now,
    replicaOf,
    wake: (lane) => (loops[lane] as RealtimeLoop).wake(),
    pickReplica: () => pickLeastLoaded(engines),
    crash,
  });

  const router = createRouter({
    sim,
    ctx,
    version: MIMICKED_VLLM_VERSION,
    isReady: () => ready,
    metricsText: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
    admit: (kind, prepared, res, requestId) => bridge.admit(kind, prepared, res, requestId),
    stats: () => [
      {
        steps: statsWindow.steps,
        generationTokens: statsWindow.generationTokens,
        seconds: (now() - statsWindow.startMs) / 1000,
      },
      bridge.size,
      loops.flatMap((loop) => loop.jitterSamples()),
    ],
    profiler: profilers.torchEnabled ? profilers : undefined,
    resetStats: () => {
      Object.assign(statsWindow, { steps: 0, generationTokens: 0, startMs: now() });
      for (const loop of loops) loop.resetJitter();
    },
  });

  const server = createServer(router);
  server.keepAliveTimeout = 5_000;
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  // A fixed port stays closed during a startup delay, as vLLM's is while the model loads;
  // an ephemeral port must be bound to be known, so it answers 503 until ready instead.
  const delayListen = sim.simStartupDelayMs > 0 && sim.port !== 0;
  const listen = () =>
    new Promise<void>((resolveListen, rejectListen) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        rejectListen(
          new ServerError(
            `cannot listen on ${sim.host}:${sim.port}: ${error.code ?? error.message}`,
            {
              field: "--port",
            },
          ),
        ),
      );
      server.listen(sim.port, sim.host, () => resolveListen());
    });
  let startupTimer: NodeJS.Timeout | undefined;
  let port = sim.port;
  const banner = () => {
    const url = `http://${hostForUrl(sim.host)}:${port}`;
    log(
      `INFO vscale sim (vLLM ${MIMICKED_VLLM_VERSION} API) serving ${sim.servedNames.join(", ")} at ${url} ` +
        `profile=${sim.simProfile} tp=${sim.tensorParallelSize} pp=${sim.pipelineParallelSize} dp=${sim.dataParallelSize} ` +
        `serial_fraction=${sim.simSerialFraction ?? "fitted"} time_scale=${sim.simTimeScale} max_num_seqs=${sim.maxNumSeqs} ` +
        `max_num_batched_tokens=${sim.maxNumBatchedTokensResolved} num_gpu_blocks=${sim.numGpuBlocks} ` +
        `block_size=${sim.blockSize} max_model_len=${sim.maxModelLenResolved} ` +
        `chunked_prefill=${sim.enableChunkedPrefill} prefix_caching=${sim.enablePrefixCaching} ` +
        `api_key=${sim.apiKey ? "set" : "none"} seed=${sim.seed}`,
    );
  };
  if (delayListen) {
    log(`INFO vscale sim: loading (startup delay ${sim.simStartupDelayMs} ms)`);
    startupTimer = setTimeout(() => {
      listen().then(
        () => {
          ready = true;
          banner();
        },
        (error: unknown) => log(`ERROR ${error instanceof Error ? error.message : String(error)}`),
      );
    }, sim.simStartupDelayMs);
  } else {
    await listen();
    port = (server.address() as AddressInfo).port;
    banner();
    if (!ready) {
      startupTimer = setTimeout(() => {
        ready = true;
        log("INFO vscale sim: ready");
      }, sim.simStartupDelayMs);
    }
  }

  let lastLog = now();
  const statsTimer = setInterval(() => {
    const t = now();
    const seconds = (t - lastLog) / 1000;
    lastLog = t;
    interval.forEach((stats, i) => {
      const state = replicaState(i);
      log(
        `INFO Engine ${String(i).padStart(3, "0")}: Avg prompt throughput: ${(stats.prompt / seconds).toFixed(1)} tokens/s, ` +
          `Avg generation throughput: ${(stats.generation / seconds).toFixed(1)} tokens/s, ` +
          `Running: ${state.running} reqs, Waiting: ${state.waiting} reqs, ` +
          `GPU KV cache usage: ${(state.kvUsage * 100).toFixed(1)}%, ` +
          `Prefix cache hit rate: ${(stats.queries > 0 ? (stats.hits / stats.queries) * 100 : 0).toFixed(1)}%`,
      );
      Object.assign(stats, { prompt: 0, generation: 0, queries: 0, hits: 0 });
    });
  }, sim.statsIntervalMs);
  statsTimer.unref();

  return {
    url: `http://${hostForUrl(sim.host)}:${port}`,
    port,
    options: sim,
    engines,
    steps: () => stepLog,
    jitterMs: () => loops.flatMap((loop) => loop.jitterSamples()),
    activeRequests: () => bridge.size,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(statsTimer);
      if (startupTimer) clearTimeout(startupTimer);
      for (const loop of loops) loop.stop();
      // End open streams: the engine stops, so they would never finish.
      bridge.endAll();
      await new Promise<void>((done) => {
        if (!server.listening) return done();
        server.close(() => done());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 200).unref();
      });
      // profilemate and seed 000 write at exit: only a clean shutdown leaves their files.
      await profilers.close();
    },
  };
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
