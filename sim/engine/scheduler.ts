/**
 * One engine replica, modelled on vLLM V1's scheduler: a waiting and a running
 * queue, a token budget per step (`max_num_batched_tokens`), `max_num_seqs`,
 * chunked prefill, paged KV blocks allocated as sequences grow, preemption by
 * recompute and optional prefix caching.
 *
 * The engine never reads a clock and never sets a timer: `schedule(nowMs)`
 * plans a step and prices it with the cost model, `complete(plan, endMs)`
 * applies its outputs. A virtual-time driver or the real-time loop calls them.
 */
import { type BatchShape, type CostModelParams, type StepCost, stepCost } from "./cost-model.ts";
import { KvCache, prefixBlockHashes } from "./kv-cache.ts";

export type FinishReason = "stop" | "length" | "abort";

export interface EngineConfig {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  enableChunkedPrefill: boolean;
  enablePrefixCaching: boolean;
  blockSize: number;
  numGpuBlocks: number;
  cost: CostModelParams;
}

export interface NewRequest {
  id: string;
  promptTokenIds: readonly number[];
  /** Tokens to generate before finishing with `finishReason` (drawn by the caller). */
  outputTokens: number;
  finishReason: Exclude<FinishReason, "abort">;
  arrivalMs: number;
}

/** A request's state inside the engine; the timestamps feed the latency histograms. */
export interface Sequence {
  readonly id: string;
  readonly promptLen: number;
  readonly outputTarget: number;
  readonly targetReason: Exclude<FinishReason, "abort">;
  readonly blockHashes: readonly number[];
  readonly arrivalMs: number;
  status: "waiting" | "running" | "finished";
  numComputed: number;
  numOutput: number;
  numPreemptions: number;
  /** Prompt tokens found in the prefix cache when first scheduled (vLLM's `num_cached_tokens`). */
  numCachedTokens: number;
  firstScheduledMs: number | undefined;
  firstTokenMs: number | undefined;
  lastTokenMs: number | undefined;
  finishedMs: number | undefined;
  finishReason: FinishReason | undefined;
}

export interface ScheduledChunk {
  seq: Sequence;
  tokens: number;
}

export interface StepPlan {
  startMs: number;
  chunks: ScheduledChunk[];
  batch: BatchShape;
  cost: StepCost;
  /** Sequences preempted while planning this step. */
  preempted: number;
  /** Their ids, in preemption order (the profilers' preemption events). */
  preemptedIds: string[];
  /** Requests scheduled for the first time (seed 000's `scheduled_new_reqs`). */
  newRequests: number;
  /** Prompt tokens looked up / found in the prefix cache this step. */
  prefixQueries: number;
  prefixHits: number;
  /** Requests dropped because they can never be scheduled (finished with `abort`). */
  rejected: Sequence[];
}

export interface TokenEvent {
  seq: Sequence;
  /** 0-based index of the generated token. */
  index: number;
}

export interface StepOutcome {
  endMs: number;
  tokens: TokenEvent[];
  finished: Sequence[];
  /** Prompt tokens of sequences that produced their first token (as vLLM counts them). */
  promptTokens: number;
  generationTokens: number;
}

export class Engine {
  readonly config: EngineConfig;
  readonly kv: KvCache;
  private readonly waiting: Sequence[] = [];
  private readonly running: Sequence[] = [];
  private readonly byId = new Map<string, Sequence>();
  private totalPreemptions = 0;

  constructor(config: EngineConfig) {
    this.config = config;
    this.kv = new KvCache(config.numGpuBlocks, config.blockSize);
  }

  get numWaiting(): number {
    return this.waiting.length;
  }

  get numRunning(): number {
    return this.running.length;
  }

  get preemptions(): number {
    return this.totalPreemptions;
  }

  /** Requests in the engine: what the least-loaded router compares. */
  load(): number {
    return this.waiting.length + this.running.length;
  }

  hasWork(): boolean {
    return this.waiting.length > 0 || this.running.length > 0;
  }

  add(request: NewRequest): Sequence {
    const seq: Sequence = {
      id: request.id,
      promptLen: request.promptTokenIds.length,
      outputTarget: Math.max(1, request.outputTokens),
      targetReason: request.finishReason,
      blockHashes: this.config.enablePrefixCaching
        ? prefixBlockHashes(request.promptTokenIds, this.config.blockSize)
        : [],
      arrivalMs: request.arrivalMs,
      status: "waiting",
      numComputed: 0,
      numOutput: 0,
      numPreemptions: 0,
      numCachedTokens: 0,
      firstScheduledMs: undefined,
      firstTokenMs: undefined,
      lastTokenMs: undefined,
      finishedMs: undefined,
      finishReason: undefined,
    };
    this.byId.set(seq.id, seq);
    this.waiting.push(seq);
    return seq;
  }

  /**
   * Finish a request now (client disconnect, stop string): its blocks are freed
   * at once. Returns the sequence, or undefined when it already finished.
   */
  abort(id: string, nowMs: number, reason: FinishReason = "abort"): Sequence | undefined {
    const seq = this.byId.get(id);
    if (!seq || seq.status === "finished") return undefined;
    removeFrom(seq.status === "waiting" ? this.waiting : this.running, seq);
    this.finish(seq, nowMs, reason);
    return seq;
  }

  /** Plan the next step at `nowMs`; null when there is nothing to run. */
  schedule(nowMs: number): StepPlan | null {
    if (!this.hasWork()) return null;
    const cfg = this.config;
    let budget = cfg.maxNumBatchedTokens;
    const chunks: ScheduledChunk[] = [];
    let preempted = 0;
    const preemptedIds: string[] = [];
    let newRequests = 0;
    let prefixQueries = 0;
    let prefixHits = 0;

    // Running requests first, in order (vLLM V1 `Scheduler.schedule`).
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i] as Sequence;
      let tokens = totalTokens(seq) - seq.numComputed;
      if (!cfg.enableChunkedPrefill && tokens > budget) continue;
      tokens = Math.min(tokens, budget);
      if (tokens <= 0) continue;
      let scheduled = true;
      while (!this.kv.allocate(seq.id, seq.numComputed + tokens)) {
        // Out of blocks: preempt the newest running request (recompute), maybe this one.
        const victim = this.running.pop() as Sequence;
        this.preempt(victim);
        preempted++;
        preemptedIds.push(victim.id);
        if (victim === seq) {
          scheduled = false;
          break;
        }
      }
      if (!scheduled) break;
      chunks.push({ seq, tokens });
      budget -= tokens;
    }

    // Then waiting requests, but not in a step that had to preempt.
    while (preempted === 0 && this.waiting.length > 0 && budget > 0) {
      if (this.running.length >= cfg.maxNumSeqs) break;
      const seq = this.waiting[0] as Sequence;
      let hits = 0;
      if (seq.numComputed === 0 && cfg.enablePrefixCaching) {
        hits = this.kv.claimCachedPrefix(seq.id, seq.blockHashes);
        // At least one prompt token must be computed to produce logits (vLLM does the same).
        const maxHits = Math.floor((totalTokens(seq) - 1) / cfg.blockSize);
        if (hits > maxHits) {
          this.kv.releaseTail(seq.id, hits - maxHits);
          hits = maxHits;
        }
        seq.numComputed = hits * cfg.blockSize;
      }
      let tokens = totalTokens(seq) - seq.numComputed;
      if (!cfg.enableChunkedPrefill && tokens > budget) {
        this.undoPrefixClaim(seq);
        break;
      }
      tokens = Math.min(tokens, budget);
      if (!this.kv.allocate(seq.id, seq.numComputed + tokens)) {
        this.undoPrefixClaim(seq);
        break;
      }
      if (cfg.enablePrefixCaching && seq.numPreemptions === 0) {
        prefixQueries += seq.promptLen;
        prefixHits += hits * cfg.blockSize;
      }
      // Set once, at the first scheduling (vllm/v1/core/sched/scheduler.py: `num_cached_tokens < 0`).
      if (seq.firstScheduledMs === undefined) seq.numCachedTokens = hits * cfg.blockSize;
      this.waiting.shift();
      seq.status = "running";
      // A step starts on the modelled clock, which may precede a request admitted while the
      // previous step's tokens were handled; its queue time is never negative.
      if (seq.firstScheduledMs === undefined) newRequests++;
      seq.firstScheduledMs ??= Math.max(nowMs, seq.arrivalMs);
      this.running.push(seq);
      chunks.push({ seq, tokens });
      budget -= tokens;
    }

    const rejected: Sequence[] = [];
    if (chunks.length === 0 && this.running.length === 0 && this.waiting.length > 0) {
      // Nothing fits (one prompt larger than the whole cache): drop it rather than spin.
      const dropped = this.rejectHead(nowMs);
      if (dropped) rejected.push(dropped);
    }
    const batch = shapeOf(chunks);
    return {
      startMs: nowMs,
      chunks,
      batch,
      cost: stepCost(cfg.cost, batch),
      preempted,
      preemptedIds,
      newRequests,
      prefixQueries,
      prefixHits,
      rejected,
    };
  }

  /** Apply a planned step's outputs at `endMs`. */
  complete(plan: StepPlan, endMs: number): StepOutcome {
    const outcome: StepOutcome = {
      endMs,
      tokens: [],
      finished: [],
      promptTokens: 0,
      generationTokens: 0,
    };
    for (const { seq, tokens } of plan.chunks) {
      // Aborted or preempted while the step ran: its work is discarded.
      if (seq.status !== "running") continue;
      seq.numComputed += tokens;
      if (seq.numComputed < totalTokens(seq)) continue;
      if (seq.numOutput === 0) {
        outcome.promptTokens += seq.promptLen;
        seq.firstTokenMs = endMs;
        if (this.config.enablePrefixCaching) this.kv.registerHashes(seq.id, seq.blockHashes);
      }
      outcome.tokens.push({ seq, index: seq.numOutput });
      seq.numOutput++;
      seq.lastTokenMs = endMs;
      outcome.generationTokens++;
      if (seq.numOutput >= seq.outputTarget) {
        removeFrom(this.running, seq);
        this.finish(seq, endMs, seq.targetReason);
        outcome.finished.push(seq);
      }
    }
    return outcome;
  }

  private finish(seq: Sequence, nowMs: number, reason: FinishReason): void {
    seq.status = "finished";
    seq.finishedMs = nowMs;
    seq.finishReason = reason;
    this.kv.free(seq.id);
    this.byId.delete(seq.id);
  }

  private preempt(seq: Sequence): void {
    this.kv.free(seq.id);
    seq.status = "waiting";
    seq.numComputed = 0;
    seq.numPreemptions++;
    this.totalPreemptions++;
    this.waiting.unshift(seq);
  }

  private undoPrefixClaim(seq: Sequence): void {
    seq.numComputed = 0;
    this.kv.free(seq.id);
  }

  /** A request that can never be scheduled would block the queue forever: drop it. */
  private rejectHead(nowMs: number): Sequence | undefined {
    const seq = this.waiting[0] as Sequence;
    const tokens = totalTokens(seq);
    const tooBigForCache = this.kv.blocksNeeded(tokens) > this.kv.numBlocks;
    const tooBigForStep =
      !this.config.enableChunkedPrefill && tokens > this.config.maxNumBatchedTokens;
    if (!tooBigForCache && !tooBigForStep) return undefined;
    this.waiting.shift();
    this.finish(seq, nowMs, "abort");
    return seq;
  }
}

function totalTokens(seq: Sequence): number {
  return seq.promptLen + seq.numOutput;
}

function removeFrom(list: Sequence[], seq: Sequence): void {
  const index = list.indexOf(seq);
  if (index >= 0) list.splice(index, 1);
}

function shapeOf(chunks: readonly ScheduledChunk[]): BatchShape {
  let prefillTokens = 0;
  let decodeSeqs = 0;
  let contextTokens = 0;
  for (const { seq, tokens } of chunks) {
    const isDecode = tokens === 1 && seq.numOutput > 0 && seq.numComputed === totalTokens(seq) - 1;
    if (isDecode) decodeSeqs++;
    else prefillTokens += tokens;
    contextTokens += seq.numComputed + tokens;
  }
  return { prefillTokens, decodeSeqs, contextTokens, requests: chunks.length };
}
