/**
 * What the simulator's profilers see of one completed step: the engine's plan,
 * its outcome and the scheduler state after it, flattened so that the row
 * builders (profilemate-session.ts, step-stats.ts, step-trace.ts) stay pure.
 */
import type { BatchShape, StepCost } from "../engine/cost-model.ts";
import type { Engine, StepOutcome, StepPlan } from "../engine/scheduler.ts";

export interface StepView {
  lane: number;
  replica: number;
  /** Modelled start (engine clock, ms). */
  startMs: number;
  cost: StepCost;
  batch: BatchShape;
  /** Scheduled requests and their tokens this step (1 = a decode). */
  chunks: readonly { id: string; tokens: number }[];
  /** Requests scheduled for the first time in this step. */
  newRequests: number;
  preemptedIds: readonly string[];
  finished: readonly { id: string; finishedMs: number }[];
  running: number;
  waiting: number;
  kvUsedBlocks: number;
  kvTotalBlocks: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
}

export function viewStep(
  lane: number,
  replica: number,
  engine: Engine,
  plan: StepPlan,
  outcome: StepOutcome,
): StepView {
  const chunks = plan.chunks.map(({ seq, tokens }) => ({ id: seq.id, tokens }));
  return {
    lane,
    replica,
    startMs: plan.startMs,
    cost: plan.cost,
    batch: plan.batch,
    chunks,
    newRequests: plan.newRequests,
    preemptedIds: plan.preemptedIds,
    finished: outcome.finished.map((seq) => ({ id: seq.id, finishedMs: seq.finishedMs ?? 0 })),
    running: engine.numRunning,
    waiting: engine.numWaiting,
    kvUsedBlocks: engine.kv.usedBlocks(),
    kvTotalBlocks: engine.kv.numBlocks,
    maxNumSeqs: engine.config.maxNumSeqs,
    maxNumBatchedTokens: engine.config.maxNumBatchedTokens,
  };
}

/** Tokens computed in the step: prefill tokens plus one per decoding sequence. */
export function stepTokens(v: Pick<StepView, "batch">): number {
  return v.batch.prefillTokens + v.batch.decodeSeqs;
}
