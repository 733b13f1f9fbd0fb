/** Shared builders for the engine tests: a real engine with the default profile. */
import { kvBlocksFor } from "../../sim/engine/cost-model.ts";
import { PROFILES } from "../../sim/engine/profiles.ts";
import { Engine, type EngineConfig } from "../../sim/engine/scheduler.ts";

export const PROFILE = PROFILES["llama-8b-h100"] as NonNullable<(typeof PROFILES)[string]>;

export function makeEngine(overrides: Partial<EngineConfig> & { tp?: number; s?: number } = {}) {
  const tp = overrides.tp ?? 1;
  const config: EngineConfig = {
    maxNumSeqs: 256,
    maxNumBatchedTokens: 8192,
    enableChunkedPrefill: true,
    enablePrefixCaching: false,
    blockSize: 16,
    numGpuBlocks: kvBlocksFor(PROFILE, tp, 0.9, 16),
    cost: {
      profile: PROFILE,
      tensorParallelSize: tp,
      serialFraction: overrides.s ?? 0.08,
      timeScale: 1,
    },
    ...overrides,
  };
  return new Engine(config);
}

/** `n` distinct token ids starting at `from` (distinct prompts never share a prefix). */
export function promptIds(n: number, from = 1000): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}
