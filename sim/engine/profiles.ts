/**
 * Named hardware/model profiles: the cost-model coefficients and the memory
 * figures that size the KV cache. Coefficients are per step on ONE GPU (TP=1);
 * the planted Amdahl law (cost-model.ts) derives every other TP from them.
 *
 * `llama-8b-h100` is tuned so a decode step takes ≈7 ms at batch 1 and ≈30 ms
 * at batch 256 with 1k-token contexts, and prefill runs at ≈25k tokens/s —
 * the ranges vLLM reports for Llama-3.1-8B in bf16 on one H100.
 */
export interface SimProfile {
  name: string;
  description: string;
  /** Fixed cost of one forward pass (weights streamed once), ms. */
  executeBaseMs: number;
  /** Per prefill (or recomputed) token, ms. */
  prefillTokenMs: number;
  /** Per sequence decoding one token, ms. */
  decodeSeqMs: number;
  /** Per token of context the attention reads (every scheduled sequence), ms. */
  contextTokenMs: number;
  /** All-reduce latency per doubling of TP, ms (small: the law stays Amdahl). */
  commBaseMs: number;
  /** All-reduce cost per scheduled token at TP>1, ms. */
  commTokenMs: number;
  /** Mean generated tokens when the client does not force a length (ignore_eos). */
  meanOutputTokens: number;
  gpuMemoryGiB: number;
  weightsGiB: number;
  /** KV bytes per token: 2 (K,V) × layers × kv_heads × head_dim × dtype bytes. */
  kvBytesPerToken: number;
  /** Memory vLLM keeps for activations and CUDA graphs per GPU, GiB. */
  activationGiB: number;
  maxModelLen: number;
  /** A fitted step profile under sim/profiles/ that replaces the formula above. */
  fittedSteps?: string;
}

const LLAMA_8B_H100: SimProfile = {
  name: "llama-8b-h100",
  description: "Llama-3.1-8B-Instruct, bf16, on H100 80GB",
  executeBaseMs: 6.5,
  prefillTokenMs: 0.04,
  decodeSeqMs: 0.04,
  contextTokenMs: 0.00006,
  commBaseMs: 0.01,
  commTokenMs: 0.00002,
  meanOutputTokens: 200,
  gpuMemoryGiB: 80,
  weightsGiB: 15,
  kvBytesPerToken: 2 * 32 * 8 * 128 * 2,
  activationGiB: 4,
  maxModelLen: 131072,
};

export const PROFILES: Record<string, SimProfile> = {
  "llama-8b-h100": LLAMA_8B_H100,
  "llama-70b-h100": {
    name: "llama-70b-h100",
    description: "Llama-3.1-70B-Instruct, bf16, on H100 80GB (needs TP ≥ 2 to fit)",
    executeBaseMs: 48,
    prefillTokenMs: 0.32,
    decodeSeqMs: 0.2,
    contextTokenMs: 0.0004,
    commBaseMs: 0.05,
    commTokenMs: 0.0001,
    meanOutputTokens: 200,
    gpuMemoryGiB: 80,
    weightsGiB: 131,
    kvBytesPerToken: 2 * 80 * 8 * 128 * 2,
    activationGiB: 6,
    maxModelLen: 131072,
  },
  /**
   * Llama-3-8B on one H200 (141 GB; nvidia-smi reports 143771 MiB ≈ 140 GiB),
   * its step time fitted from the measured grid (sim/profiles/README.md); the
   * H100 formula coefficients it inherits are unused.
   */
  "llama-8b-h200": {
    ...LLAMA_8B_H100,
    name: "llama-8b-h200",
    description: "Llama-3-8B shape, bf16, eager mode, on H200 141GB (fitted step times)",
    gpuMemoryGiB: 140,
    fittedSteps: "llama-8b-h200.json",
  },
};

export const DEFAULT_PROFILE = "llama-8b-h100";

export function profileNames(): string[] {
  return Object.keys(PROFILES);
}
