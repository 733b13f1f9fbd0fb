/**
 * The simulated `vllm serve`: a real HTTP server on loopback in front of one
 * engine per data-parallel replica, each driven in real time by a
 * RealtimeLoop. Routes mirror vLLM's OpenAI server; metrics use vLLM's names.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { ServerError } from "../common/errors.ts";
import { RealtimeLoop } from "./engine/realtime-loop.ts";
import { pickLeastLoaded } from "./engine/router.ts";
import { Engine, type Sequence, type StepOutcome, type StepPlan } from "./engine/scheduler.ts";
import { FaultInjector, type RequestFaults } from "./faults.ts";
import { renderChat } from "./http/chat-template.ts";
import { quoteAll, StreamChunkEncoder } from "./http/chunk-encoder.ts";
import { simStatsBody } from "./http/debug-stats.ts";
import { HttpError, sendError, sendJson } from "./http/errors.ts";
import {
  type ApiKind,
  fullResponse,
  type PreparedRequest,
  prepareRequest,
  type ServingContext,
  usageOf,
} from "./http/openai.ts";
import {
  type ChatMessage,
  DetokenizeRequestSchema,
  describeIssue,
  TokenizeRequestSchema,
} from "./http/request-schema.ts";
import { SSE_DONE, SSE_HEADERS, StreamWriter, sseData } from "./http/sse.ts";
import { StreamFlusher } from "./http/stream-flusher.ts";
import { SimMetrics } from "./metrics.ts";
import {
  MIMICKED_VLLM_VERSION,
  type ResolvedSim,
  resolveSimOptions,
  type SimOptions,
} from "./options.ts";
import { detokenize, GENERATED_WORDS, tokenize, tokenStrings } from "./tokenizer.ts";

export type { SimOptions } from "./options.ts";

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const QUOTED_WORDS = quoteAll(GENERATED_WORDS);

/** One step as it happened, for tests and debugging (`recordSteps`). */
export interface StepRecord {
  replica: number;
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

interface Active {
  id: string;
  replica: number;
  prepared: PreparedRequest;
  faults: RequestFaults;
  res: ServerResponse;
  writer: StreamWriter | undefined;
  encoder: StreamChunkEncoder;
  created: number;
  /** The text so far: kept only when needed (stop strings, a non-streamed response). */
  keepText: boolean;
  text: string;
  /** The last token completed a stop string. */
  stopped: boolean;
  lastTokenMs: number | undefined;
  done: boolean;
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
    {
      block_size: String(sim.blockSize),
      cache_dtype: "auto",
      enable_prefix_caching: String(sim.enablePrefixCaching),
      gpu_memory_utilization: String(sim.gpuMemoryUtilization),
      num_gpu_blocks: String(sim.numGpuBlocks),
    },
  );
  const faults = new FaultInjector(sim);
  const flusher = new StreamFlusher();
  const active = new Map<string, Active>();
  const sockets = new Set<Socket>();
  const stepLog: StepRecord[] = [];
  let requestNumber = 0;
  let ready = sim.simStartupDelayMs === 0;
  let closed = false;

  const engines = Array.from(
    { length: sim.dataParallelSize },
    () =>
      new Engine({
        maxNumSeqs: sim.maxNumSeqs,
        maxNumBatchedTokens: sim.maxNumBatchedTokensResolved,
        enableChunkedPrefill: sim.enableChunkedPrefill,
        enablePrefixCaching: sim.enablePrefixCaching,
        blockSize: sim.blockSize,
        numGpuBlocks: sim.numGpuBlocks,
        cost: {
          profile: sim.profile,
          tensorParallelSize: sim.tensorParallelSize,
          serialFraction: sim.simSerialFraction,
          timeScale: sim.simTimeScale,
        },
      }),
  );
  const loops = engines.map(
    (engine, replica) =>
      new RealtimeLoop(engine, (plan, outcome) => onStep(replica, plan, outcome), now),
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
  const interval = engines.map(() => ({ prompt: 0, generation: 0, queries: 0, hits: 0 }));

  function crash(): void {
    if (hooks.onCrash) {
      hooks.onCrash();
      return;
    }
    for (const loop of loops) loop.stop();
    for (const socket of sockets) socket.destroy();
    server.close();
  }

  function finishActive(entry: Active, seq: Sequence): void {
    if (entry.done) return;
    entry.done = true;
    active.delete(entry.id);
    metrics.recordFinished(entry.replica, seq, entry.prepared.maxTokensParam);
    if (seq.finishReason === "abort") return;
    const { prepared } = entry;
    const usage = usageOf(seq.promptLen, seq.numOutput);
    if (entry.writer) {
      if (prepared.includeUsage) entry.writer.write(entry.encoder.usage(usage));
      entry.writer.write(SSE_DONE);
      entry.writer.end();
    } else {
      const base = { id: entry.id, created: entry.created, model: prepared.model };
      sendJson(
        entry.res,
        200,
        fullResponse(prepared.kind, base, entry.text, seq.finishReason ?? "stop", usage),
      );
    }
  }

  /**
   * The next word of a request as quoted JSON, trimmed if it completes a stop
   * string (then `entry.stopped` is set).
   */
  function nextQuotedText(entry: Active): string {
    const w = Math.floor(entry.prepared.random() * GENERATED_WORDS.length);
    if (!entry.keepText) return QUOTED_WORDS[w] as string;
    const word = GENERATED_WORDS[w] as string;
    const before = entry.text.length;
    const full = entry.text + word;
    for (const stop of entry.prepared.stop) {
      const at = full.indexOf(stop, Math.max(0, before - stop.length + 1));
      if (at >= 0) {
        const kept = full.slice(before, Math.max(before, at));
        entry.text = full.slice(0, Math.max(before, at));
        entry.stopped = true;
        return JSON.stringify(kept);
      }
    }
    entry.text = full;
    return QUOTED_WORDS[w] as string;
  }

  function onStep(replica: number, plan: StepPlan, outcome: StepOutcome): void {
    const engine = engines[replica] as Engine;
    metrics.recordStep(replica, plan, outcome);
    metrics.recordState(replica, engine.numRunning, engine.numWaiting, engine.kv.usage());
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
        startMs: plan.startMs,
        endMs: outcome.endMs,
        scheduledMs: plan.cost.totalMs,
        prefillTokens: plan.batch.prefillTokens,
        decodeSeqs: plan.batch.decodeSeqs,
        tokenIds: outcome.tokens.map((t) => t.seq.id),
      });
    }
    for (const seq of plan.rejected) {
      const entry = active.get(seq.id);
      if (!entry) continue;
      entry.done = true;
      active.delete(seq.id);
      metrics.recordFinished(replica, seq, entry.prepared.maxTokensParam);
      const error = new HttpError(
        400,
        "The request needs more KV cache blocks than the server has.",
        null,
      );
      if (entry.writer) {
        entry.writer.write(sseData({ error: error.body() }));
        entry.writer.end();
      } else sendError(entry.res, error);
    }
    let crashNow = false;
    for (const { seq, index } of outcome.tokens) {
      const entry = active.get(seq.id);
      if (!entry || entry.done) continue;
      metrics.recordToken(replica, seq, index, entry.lastTokenMs, outcome.endMs);
      entry.lastTokenMs = outcome.endMs;
      const quoted = nextQuotedText(entry);
      if (entry.stopped && seq.status !== "finished") engine.abort(seq.id, outcome.endMs, "stop");
      const finished = seq.status === "finished";
      if (entry.writer) {
        const usage = entry.prepared.continuousUsage
          ? usageOf(seq.promptLen, seq.numOutput)
          : undefined;
        entry.writer.write(
          entry.encoder.token(quoted, finished ? (seq.finishReason ?? null) : null, usage),
        );
        if (index === 0) entry.writer.hold(entry.faults.stallMs);
      }
      if (index === 0 && entry.faults.crashOnFirstToken) crashNow = true;
      if (finished) {
        finishActive(entry, seq);
      } else if (
        entry.faults.truncateAfterTokens !== undefined &&
        index + 1 >= entry.faults.truncateAfterTokens
      ) {
        entry.done = true;
        active.delete(entry.id);
        const aborted = engine.abort(seq.id, outcome.endMs);
        if (aborted) metrics.recordFinished(replica, aborted, entry.prepared.maxTokensParam);
        if (entry.writer) entry.writer.cut();
        else entry.res.destroy();
      }
    }
    if (crashNow) crash();
  }

  async function handleGenerate(
    kind: ApiKind,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const body = await readJson(req);
    const prepared = prepareRequest(kind, body, ctx);
    const requestFaults = faults.next(prepared.outputTokens);
    if (requestFaults.fail) throw new HttpError(500, "simulated engine failure (--sim-fail-rate)");
    const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replaceAll("-", "")}`;
    const replica = pickLeastLoaded(engines);
    const engine = engines[replica] as Engine;
    const created = Math.floor(Date.now() / 1000);
    const entry: Active = {
      id,
      replica,
      prepared,
      faults: requestFaults,
      res,
      writer: undefined,
      encoder: new StreamChunkEncoder(kind, { id, created, model: prepared.model }),
      created,
      keepText: !prepared.stream || prepared.stop.length > 0,
      text: "",
      stopped: false,
      lastTokenMs: undefined,
      done: false,
    };
    if (prepared.stream) {
      res.writeHead(200, SSE_HEADERS);
      // Headers go out at once, as vLLM's StreamingResponse sends them before any token;
      // for chat, together with the assistant role, which vLLM sends before any token too.
      if (kind === "chat") res.write(entry.encoder.role());
      else res.flushHeaders();
      entry.writer = new StreamWriter(res, flusher);
    }
    active.set(id, entry);
    res.on("close", () => {
      // The client went away before the end: abort and free the request's blocks.
      if (entry.done) return;
      entry.done = true;
      active.delete(id);
      const seq = engine.abort(id, now());
      if (seq) metrics.recordFinished(replica, seq, prepared.maxTokensParam);
    });
    engine.add({
      id,
      promptTokenIds: prepared.promptTokenIds,
      outputTokens: prepared.outputTokens,
      finishReason: prepared.finishReason,
      arrivalMs: now(),
    });
    (loops[replica] as RealtimeLoop).wake();
  }

  function checkApiKey(req: IncomingMessage, path: string): boolean {
    // vLLM guards only the /v1 routes; health, metrics, version and tokenize stay open.
    if (!sim.apiKey || !path.startsWith("/v1")) return true;
    return req.headers.authorization === `Bearer ${sim.apiKey}`;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    const method = req.method ?? "GET";
    if (!ready) {
      sendError(res, new HttpError(503, "The server is starting up."));
      return;
    }
    if (!checkApiKey(req, path)) {
      sendJson(res, 401, { error: "Unauthorized" });
      return;
    }
    const routes: Record<string, [string, () => Promise<void> | void]> = {
      "/health": ["GET", () => void res.writeHead(200, { "content-length": 0 }).end()],
      "/version": ["GET", () => sendJson(res, 200, { version: MIMICKED_VLLM_VERSION })],
      "/v1/models": ["GET", () => sendJson(res, 200, modelsBody(sim))],
      "/metrics": [
        "GET",
        async () => {
          const text = await metrics.text();
          res.writeHead(200, { "content-type": metrics.contentType }).end(text);
        },
      ],
      "/tokenize": ["POST", async () => sendJson(res, 200, tokenizeBody(await readJson(req), ctx))],
      "/detokenize": [
        "POST",
        async () => sendJson(res, 200, detokenizeBody(await readJson(req), ctx)),
      ],
      "/sim/stats": [
        "GET",
        () =>
          sendJson(
            res,
            200,
            simStatsBody(
              {
                steps: statsWindow.steps,
                generationTokens: statsWindow.generationTokens,
                seconds: (now() - statsWindow.startMs) / 1000,
              },
              active.size,
              loops.flatMap((loop) => loop.jitterSamples()),
            ),
          ),
      ],
      "/sim/stats/reset": [
        "POST",
        () => {
          Object.assign(statsWindow, { steps: 0, generationTokens: 0, startMs: now() });
          for (const loop of loops) loop.resetJitter();
          res.writeHead(204).end();
        },
      ],
      "/v1/chat/completions": ["POST", () => handleGenerate("chat", req, res)],
      "/v1/completions": ["POST", () => handleGenerate("completion", req, res)],
    };
    const handler = routes[path];
    if (!handler) {
      sendJson(res, 404, { detail: "Not Found" });
      return;
    }
    if (handler[0] !== method) {
      sendJson(res, 405, { detail: "Method Not Allowed" });
      return;
    }
    await handler[1]();
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const httpError =
        error instanceof HttpError
          ? error
          : new HttpError(500, error instanceof Error ? error.message : String(error));
      if (res.headersSent) res.destroy();
      else sendError(res, httpError);
    });
  });
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
        `profile=${sim.simProfile} tp=${sim.tensorParallelSize} dp=${sim.dataParallelSize} ` +
        `serial_fraction=${sim.simSerialFraction} time_scale=${sim.simTimeScale} max_num_seqs=${sim.maxNumSeqs} ` +
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
    engines.forEach((engine, i) => {
      const s = interval[i] as (typeof interval)[number];
      log(
        `INFO Engine ${String(i).padStart(3, "0")}: Avg prompt throughput: ${(s.prompt / seconds).toFixed(1)} tokens/s, ` +
          `Avg generation throughput: ${(s.generation / seconds).toFixed(1)} tokens/s, ` +
          `Running: ${engine.numRunning} reqs, Waiting: ${engine.numWaiting} reqs, ` +
          `GPU KV cache usage: ${(engine.kv.usage() * 100).toFixed(1)}%, ` +
          `Prefix cache hit rate: ${(s.queries > 0 ? (s.hits / s.queries) * 100 : 0).toFixed(1)}%`,
      );
      Object.assign(s, { prompt: 0, generation: 0, queries: 0, hits: 0 });
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
    activeRequests: () => active.size,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(statsTimer);
      if (startupTimer) clearTimeout(startupTimer);
      for (const loop of loops) loop.stop();
      // End open streams: the engine stops, so they would never finish.
      for (const entry of active.values()) {
        entry.done = true;
        const engine = engines[entry.replica] as Engine;
        engine.abort(entry.id, now());
        if (entry.writer) entry.writer.end();
        else entry.res.destroy();
      }
      active.clear();
      await new Promise<void>((done) => {
        if (!server.listening) return done();
        server.close(() => done());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 200).unref();
      });
    },
  };
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

function modelsBody(sim: ResolvedSim) {
  const created = Math.floor(Date.now() / 1000);
  return {
    object: "list",
    data: sim.servedNames.map((name) => ({
      id: name,
      object: "model",
      created,
      owned_by: "vllm",
      root: sim.model,
      parent: null,
      max_model_len: sim.maxModelLenResolved,
      permission: [],
    })),
  };
}

function checkOptionalModel(ctx: ServingContext, model: unknown): void {
  if (typeof model === "string" && !ctx.servedNames.includes(model)) {
    throw new HttpError(404, `The model \`${model}\` does not exist.`, "model");
  }
}

function tokenizeBody(body: unknown, ctx: ServingContext) {
  const parsed = TokenizeRequestSchema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeIssue(parsed.error);
    throw new HttpError(400, message, param);
  }
  const request = parsed.data;
  checkOptionalModel(ctx, request.model);
  const text =
    typeof request.prompt === "string"
      ? request.prompt
      : renderChat(request.messages as ChatMessage[], request.add_generation_prompt !== false);
  const tokens = tokenize(text);
  return {
    count: tokens.length,
    max_model_len: ctx.maxModelLen,
    tokens,
    token_strs: request.return_token_strs ? tokenStrings(tokens) : null,
  };
}

function detokenizeBody(body: unknown, ctx: ServingContext) {
  const parsed = DetokenizeRequestSchema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeIssue(parsed.error);
    throw new HttpError(400, message, param);
  }
  checkOptionalModel(ctx, parsed.data.model);
  const prompt = detokenize(parsed.data.tokens);
  if (prompt === undefined) throw new HttpError(400, "tokens: id outside the vocabulary", "tokens");
  return { prompt };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      `JSON decode error: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
