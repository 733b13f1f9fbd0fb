/**
 * The modelled kernel classes of one step: the cost model's execute time
 * (sim/engine/cost-model.ts) split into the parts that scale differently with
 * tensor parallelism, so that a profile's kernel shares say what limits scaling.
 * The parts of a step sum to its execute time exactly (the last one takes the
 * rounding remainder).
 */
import type { StepTermName } from "../../formats/step-profile.ts";
import {
  type BatchShape,
  type CostModelParams,
  commMs,
  PP_SEND_MS,
  type StepCost,
} from "../engine/cost-model.ts";
import { partMs, termValue } from "../engine/fitted-cost.ts";

/**
 * Kernel names as they appear in the trace (`cat: kernel`).
 *
 * - `lm_head_sampler`: the part that does not shrink with TP (the planted s·execute(1), or a
 *   fitted profile's unsharded per-token term). In vLLM TP shards the attention heads and the
 *   MLP GEMMs (Column/RowParallelLinear), but the logits are gathered to full vocabulary and
 *   sampled on every rank (vllm/model_executor/layers/logits_processor.py,
 *   vllm/v1/sample/sampler.py), and the embedding lookup serves every token: real work of
 *   the same duration at any TP, so the serial class is named after it.
 * - `gemm`: the weight-streaming and token GEMMs (step base, prefill tokens, decode
 *   sequences), ÷ TP.
 * - `flash_attention`: attention over the context tokens, ÷ TP.
 * - `ncclAllReduce`: the TP all-reduce (`commMs`), zero at TP 1; a fitted profile measures it
 *   inside its per-GPU terms, so it has none.
 * - `ncclSendRecv`: the pipeline-stage hand-offs, (PP − 1) · PP_SEND_MS.
 */
export const KERNEL_CLASSES = {
  serial: "lm_head_sampler",
  gemm: "gemm",
  attention: "flash_attention",
  allReduce: "ncclAllReduce",
  ppSend: "ncclSendRecv",
} as const;

export type KernelClass = keyof typeof KERNEL_CLASSES;

export interface KernelPart {
  kernel: KernelClass;
  /** Scaled ms (÷ time scale), as StepCost's. */
  ms: number;
}

/** Which class a fitted profile's term belongs to (formats/step-profile.ts terms). */
const FITTED_TERM_CLASS: Record<StepTermName, KernelClass> = {
  // The per-step floor: weights streamed once per step (and eager-mode launches) per shard.
  step: "gemm",
  // Not divided by TP in the fit: embedding and LM head over the prompt tokens.
  prefill_token: "serial",
  request: "serial",
  prefill_token_per_gpu: "gemm",
  decode_seq_per_gpu: "gemm",
  context_token_per_gpu: "attention",
};

/** Unscaled class durations of a step (ms), before the exact-sum adjustment. */
function rawParts(params: CostModelParams, batch: BatchShape): Record<KernelClass, number> {
  const n = params.tensorParallelSize;
  const pp = params.pipelineParallelSize ?? 1;
  const parts: Record<KernelClass, number> = {
    serial: 0,
    gemm: 0,
    attention: 0,
    allReduce: 0,
    ppSend: (pp - 1) * PP_SEND_MS,
  };
  const fitted = params.fitted;
  if (!fitted) {
    const { profile, serialFraction: s } = params;
    const gemm =
      profile.executeBaseMs +
      profile.prefillTokenMs * batch.prefillTokens +
      profile.decodeSeqMs * batch.decodeSeqs;
    const attention = profile.contextTokenMs * batch.contextTokens;
    parts.serial = (gemm + attention) * s;
    parts.gemm = (gemm * (1 - s)) / n;
    parts.attention = (attention * (1 - s)) / n;
    parts.allReduce = commMs(profile, n, batch);
    return parts;
  }
  // The roofline's winning part (fitted-cost.ts fittedExecuteMs), term by term; a fitted
  // coefficient may be negative, so the classes are clamped at zero and rescaled to the part.
  const x = { ...batch, tp: n };
  const { floor, compute } = fitted.execute;
  const value = (part: typeof floor) => (part ? partMs(part, x) : Number.NEGATIVE_INFINITY);
  const winner = value(floor) >= value(compute) ? floor : compute;
  const total = Math.max(0, value(winner));
  const byClass: Record<KernelClass, number> = { ...parts, ppSend: 0 };
  for (const term of winner?.terms ?? []) {
    byClass[FITTED_TERM_CLASS[term.name]] += term.coef * termValue(term, x);
  }
  let positive = 0;
  for (const k of Object.keys(byClass) as KernelClass[]) {
    byClass[k] = Math.max(0, byClass[k]);
    positive += byClass[k];
  }
  for (const k of ["serial", "gemm", "attention"] as const) {
    parts[k] = positive > 0 ? (byClass[k] / positive) * total : k === "gemm" ? total : 0;
  }
  return parts;
}

/**
 * The kernel classes of a step priced `cost` for `batch`, in launch order, zero-length ones
 * left out; their ms sum to `cost.executeMs`.
 */
export function kernelParts(
  params: CostModelParams,
  batch: BatchShape,
  cost: StepCost,
): KernelPart[] {
  const raw = rawParts(params, batch);
  const scale = 1 / params.timeScale;
  const order: KernelClass[] = ["serial", "gemm", "attention", "allReduce", "ppSend"];
  const parts = order
    .map((kernel) => ({ kernel, ms: raw[kernel] * scale }))
    .filter((p) => p.ms > 0);
  if (parts.length === 0) return cost.executeMs > 0 ? [{ kernel: "gemm", ms: cost.executeMs }] : [];
  // The cost model sums these in another order: give the rounding remainder to the largest.
  let largest = parts[0] as KernelPart;
  let sum = 0;
  for (const p of parts) {
    sum += p.ms;
    if (p.ms > largest.ms) largest = p;
  }
  largest.ms += cost.executeMs - sum;
  return parts;
}
