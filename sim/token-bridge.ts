/**
 * The engine-to-stream bridge: requests admitted into an engine lane, and
 * every step's outcome turned into what their clients receive (token chunks,
 * the final chunk, usage, `[DONE]`, a full JSON response, or an error), with
 * the per-request metrics and the faults that act on a stream.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Engine, Sequence, StepOutcome, StepPlan } from "./engine/scheduler.ts";
import type { FaultInjector, RequestFaults } from "./faults.ts";
import { quoteAll, StreamChunkEncoder } from "./http/chunk-encoder.ts";
import { HttpError, sendError, sendJson } from "./http/errors.ts";
import { type ApiKind, fullResponse, type PreparedRequest, usageOf } from "./http/openai.ts";
import { SSE_DONE, SSE_HEADERS, StreamWriter } from "./http/sse.ts";
import type { StreamFlusher } from "./http/stream-flusher.ts";
import type { SimMetrics } from "./metrics.ts";
import { GENERATED_WORDS } from "./tokenizer.ts";

const QUOTED_WORDS = quoteAll(GENERATED_WORDS);

interface Active {
  /** The response id (`chatcmpl-…`, `cmpl-…`). */
  id: string;
  /** The engine's id: unique even when clients reuse an X-Request-Id. */
  engineId: string;
  /** The engine lane (index into `engines`). */
  lane: number;
  prepared: PreparedRequest;
  faults: RequestFaults;
  res: ServerResponse;
  writer: StreamWriter | undefined;
  encoder: StreamChunkEncoder;
  created: number;
  /** The text so far: kept only when needed (stop strings, a non-streamed response). */
  keepText: boolean;
  text: string;
  /** The stop string the last token completed (vLLM's `stop_reason`), or null. */
  stopReason: string | null;
  lastTokenMs: number | undefined;
  done: boolean;
}

export interface BridgeDeps {
  engines: readonly Engine[];
  metrics: SimMetrics;
  faults: FaultInjector;
  flusher: StreamFlusher;
  now: () => number;
  /** The DP replica (metrics `engine` label) of an engine lane. */
  replicaOf(lane: number): number;
  /** Wake the lane's loop after a request was added. */
  wake(lane: number): void;
  /** Pick the engine lane for a new request. */
  pickReplica(): number;
  /** The crash fault fired. */
  crash(): void;
}

export class TokenStreamBridge {
  private readonly deps: BridgeDeps;
  private readonly active = new Map<string, Active>();

  constructor(deps: BridgeDeps) {
    this.deps = deps;
  }

  get size(): number {
    return this.active.size;
  }

  /**
   * Admit a validated request: headers go out, the engine gets it, tokens
   * follow from `onStep`. The response id is the client's X-Request-Id when
   * it sent one (engine/serving.py `_base_request_id`).
   */
  admit(
    kind: ApiKind,
    prepared: PreparedRequest,
    res: ServerResponse,
    requestId: string | undefined,
  ): void {
    const { deps } = this;
    const requestFaults = deps.faults.next(prepared.outputTokens);
    if (requestFaults.fail) throw new HttpError(500, "simulated engine failure (--sim-fail-rate)");
    const engineId = randomUUID().replaceAll("-", "");
    const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${requestId ?? engineId}`;
    const lane = deps.pickReplica();
    const engine = deps.engines[lane] as Engine;
    const created = Math.floor(Date.now() / 1000);
    const entry: Active = {
      id,
      engineId,
      lane,
      prepared,
      faults: requestFaults,
      res,
      writer: undefined,
      encoder: new StreamChunkEncoder(kind, { id, created, model: prepared.model }),
      created,
      keepText: !prepared.stream || prepared.stop.length > 0,
      text: "",
      stopReason: null,
      lastTokenMs: undefined,
      done: false,
    };
    if (prepared.stream) {
      // Headers go out at once, as Starlette's StreamingResponse sends them before the
      // body; the chat role chunk waits for the first token (see onStep).
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      entry.writer = new StreamWriter(res, deps.flusher);
    }
    this.active.set(engineId, entry);
    res.on("close", () => {
      // The client went away before the end: abort and free the request's blocks.
      if (entry.done) return;
      entry.done = true;
      this.active.delete(engineId);
      // No finished-request stats for a client abort (vLLM's OutputProcessor.abort_requests).
      engine.abort(engineId, deps.now());
    });
    engine.add({
      id: engineId,
      promptTokenIds: prepared.promptTokenIds,
      outputTokens: prepared.outputTokens,
      finishReason: prepared.finishReason,
      arrivalMs: deps.now(),
    });
    deps.wake(lane);
  }

  /** One step's outcome on engine `lane`: reject, stream, finish and cut as it says. */
  onStep(lane: number, plan: StepPlan, outcome: StepOutcome): void {
    const { metrics } = this.deps;
    const engine = this.deps.engines[lane] as Engine;
    const replica = this.deps.replicaOf(lane);
    for (const seq of plan.rejected) {
      const entry = this.active.get(seq.id);
      if (!entry) continue;
      entry.done = true;
      this.active.delete(seq.id);
      const error = new HttpError(
        400,
        "The request needs more KV cache blocks than the server has.",
        null,
      );
      // After the headers: the error as an event, then [DONE] (chat_completion/serving.py).
      if (entry.writer) {
        entry.writer.write(`data: ${error.streamPayload()}\n\n${SSE_DONE}`);
        entry.writer.end();
      } else sendError(entry.res, error);
    }
    let crashNow = false;
    for (const { seq, index } of outcome.tokens) {
      const entry = this.active.get(seq.id);
      if (!entry || entry.done) continue;
      metrics.recordToken(replica, seq, index, entry.lastTokenMs, outcome.endMs);
      entry.lastTokenMs = outcome.endMs;
      const quoted = nextQuotedText(entry);
      if (entry.stopReason !== null && seq.status !== "finished")
        engine.abort(seq.id, outcome.endMs, "stop");
      const finished = seq.status === "finished";
      if (entry.writer) {
        const continuous = entry.prepared.continuousUsage;
        // vLLM sends the chat role chunk in the stream generator's first iteration,
        // i.e. with the first token (chat_completion/serving.py `first_iteration`).
        if (index === 0 && entry.prepared.kind === "chat")
          entry.writer.write(
            entry.encoder.role(continuous ? usageOf(seq.promptLen, 0) : undefined),
          );
        const usage = continuous ? usageOf(seq.promptLen, seq.numOutput) : undefined;
        entry.writer.write(
          entry.encoder.token(
            quoted,
            finished ? (seq.finishReason ?? null) : null,
            usage,
            finished ? entry.stopReason : null,
          ),
        );
        if (index === 0) entry.writer.hold(entry.faults.stallMs);
      }
      if (index === 0 && entry.faults.crashOnFirstToken) crashNow = true;
      if (finished) {
        this.finish(entry, seq);
      } else if (
        entry.faults.truncateAfterTokens !== undefined &&
        index + 1 >= entry.faults.truncateAfterTokens
      ) {
        entry.done = true;
        this.active.delete(entry.engineId);
        engine.abort(seq.id, outcome.endMs);
        if (entry.writer) entry.writer.cut();
        else entry.res.destroy();
      }
    }
    if (crashNow) this.deps.crash();
  }

  /** End every open request now (the server closes; the engines stop). */
  endAll(): void {
    for (const entry of this.active.values()) {
      entry.done = true;
      (this.deps.engines[entry.lane] as Engine).abort(entry.engineId, this.deps.now());
      if (entry.writer) entry.writer.end();
      else entry.res.destroy();
    }
    this.active.clear();
  }

  private finish(entry: Active, seq: Sequence): void {
    if (entry.done) return;
    entry.done = true;
    this.active.delete(entry.engineId);
    this.deps.metrics.recordFinished(
      this.deps.replicaOf(entry.lane),
      seq,
      entry.prepared.maxTokensParam,
    );
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
        fullResponse(
          prepared.kind,
          base,
          entry.text,
          seq.finishReason ?? "stop",
          usage,
          entry.stopReason,
        ),
      );
    }
  }
}

/**
 * The next word of a request as quoted JSON, trimmed if it completes a stop
 * string (then `entry.stopReason` is that string).
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
      entry.stopReason = stop;
      return JSON.stringify(kept);
    }
  }
  entry.text = full;
  return QUOTED_WORDS[w] as string;
}
