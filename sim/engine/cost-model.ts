/**
 * Step cost: schedule + execute + update, as vLLM V1's `EngineCore.step()`.
 *
 * With a fitted profile (`--sim-profile FILE`, fitted-cost.ts) the three
 * phases come from measured steps. Without one:
 *
 * Execute follows the planted law for tensor parallelism N:
 *   execute(N) = execute(1) · (s + (1 − s)/N) + comm(N)
 * and the schedule and update phases keep the split measured in seed
 * 000_3eacb4ee61cd308d (95.5% execute, 2.7% schedule, 1.8% update) at every N.
 * Keeping the split constant means `s` is the serial fraction of the whole
 * step, so an Amdahl fit of throughput against TP recovers it (up to the small
 * all-reduce term).
 */
import type { StepProfile } from "../../formats/step-profile.ts";
import { fittedExecuteMs, partMs, type StepFeatures } from "./fitted-cost.ts";
import type { SimProfile } from "./profiles.ts";

export const PHASE_SPLIT = { execute: 0.955, schedule: 0.027, update: 0.018 } as const;

/** What one step computes: the inputs of the cost model. */
export interface BatchShape {
  /** Tokens of prompts (or recomputation after preemption) in this step. */
  prefillTokens: number;
  /** Sequences generating one token. */
  decodeSeqs: number;
  /** Context tokens the attention reads, summed over scheduled sequences. */
  contextTokens: number;
  /** Requests scheduled in the step. */
  requests: number;
}

export interface StepCost {
  scheduleMs: number;
  executeMs: number;
  updateMs: number;
  /** The all-reduce part of executeMs. */
  commMs: number;
  totalMs: number;
}

export interface CostModelParams {
  profile: SimProfile;
  tensorParallelSize: number;
  /** The planted s; unused with `fitted`. */
  serialFraction: number;
  /** The simulated GPU runs this many times faster: every duration is divided by it. */
  timeScale: number;
  /** Measured step times to follow instead of the planted law. */
  fitted?: StepProfile | undefined;
  /**
   * Pipeline stages: the layers are split over them, so a step's forward
   * pass crosses PP − 1 stage boundaries (one activation send each).
   */
  pipelineParallelSize?: number;
  /**
   * Extra modelled ms added to every step's schedule phase (`--sim-schedule-delay-ms`): a
   * slowed scheduler. Divided by timeScale like every modelled duration, so the share of
   * the step it takes does not depend on the time scale.
   */
  scheduleDelayMs?: number;
}

/** One activation hand-off between pipeline stages, ms (NVLink-class p2p of a step's hidden states). */
export const PP_SEND_MS = 0.05;

/** Execute time on one GPU, unscaled. */
export function executeMsAtTp1(profile: SimProfile, batch: BatchShape): number {
  return (
    profile.executeBaseMs +
    profile.prefillTokenMs * batch.prefillTokens +
    profile.decodeSeqMs * batch.decodeSeqs +
    profile.contextTokenMs * batch.contextTokens
  );
}

/** All-reduce time per step at TP = n, unscaled (zero on one GPU). */
export function commMs(profile: SimProfile, n: number, batch: BatchShape): number {
  if (n <= 1) return 0;
  const tokens = batch.prefillTokens + batch.decodeSeqs;
  return profile.commBaseMs * Math.log2(n) + (profile.commTokenMs * tokens * (n - 1)) / n;
}

export function stepCost(params: CostModelParams, batch: BatchShape): StepCost {
  const { profile, tensorParallelSize: n, serialFraction: s, timeScale } = params;
  const pp = params.pipelineParallelSize ?? 1;
  const scale = 1 / timeScale;
  const ppMs = (pp - 1) * PP_SEND_MS;
  const delay = params.scheduleDelayMs ?? 0;
  if (params.fitted) {
    const x: StepFeatures = { ...batch, tp: n };
    const execute = fittedExecuteMs(params.fitted, x) + ppMs;
    // No schedule/update measurements: they keep seed 000's share of the step.
    const { schedule, update } = params.fitted;
    const stepShare = execute / PHASE_SPLIT.execute;
    const scheduleMs = schedule
      ? Math.max(0, partMs(schedule, x))
      : stepShare * PHASE_SPLIT.schedule;
    const updateMs = update ? Math.max(0, partMs(update, x)) : stepShare * PHASE_SPLIT.update;
    return {
      scheduleMs: (scheduleMs + delay) * scale,
      executeMs: execute * scale,
      updateMs: updateMs * scale,
      commMs: ppMs * scale,
      totalMs: (scheduleMs + delay + execute + updateMs) * scale,
    };
  }
  const comm = commMs(profile, n, batch) + ppMs;
  const execute = executeMsAtTp1(profile, batch) * (s + (1 - s) / n) + comm;
  const stepMs = execute / PHASE_SPLIT.execute;
  return {
    scheduleMs: (stepMs * PHASE_SPLIT.schedule + delay) * scale,
    executeMs: execute * scale,
    updateMs: stepMs * PHASE_SPLIT.update * scale,
    commMs: comm * scale,
    totalMs: (stepMs + delay) * scale,
  };
}

/**
 * Blocks that fit on `gpus` GPUs (TP × PP: weights and layers are split over
 * them), as vLLM's memory profiling would find them; `dtypeFactor` is the
 * KV dtype's size relative to bf16 (fp8: 0.5).
 */
export function kvBlocksFor(
  profile: SimProfile,
  gpus: number,
  gpuMemoryUtilization: number,
  blockSize: number,
  dtypeFactor = 1,
): number {
  const GiB = 1024 ** 3;
  const budget =
    (profile.gpuMemoryGiB * gpuMemoryUtilization - profile.activationGiB) * gpus -
    profile.weightsGiB;
  return Math.floor((budget * GiB) / (profile.kvBytesPerToken * dtypeFactor * blockSize));
}
