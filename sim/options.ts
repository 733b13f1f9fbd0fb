/**
 * The simulator's options: vLLM's `serve` flags (same defaults, camelCased)
 * plus the simulator-only `sim*` knobs. One schema for both the CLI and the
 * in-process API; `resolveSimOptions` fills defaults and checks consistency.
 */
import { z } from "zod";
import { ConfigError } from "../common/errors.ts";
import { kvBlocksFor } from "./engine/cost-model.ts";
import { DEFAULT_PROFILE, PROFILES, type SimProfile } from "./engine/profiles.ts";

/** The vLLM release whose API and metrics the simulator mimics (GET /version). */
export const MIMICKED_VLLM_VERSION = "0.10.1.1";

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);

export const SimOptionsSchema = z.strictObject({
  model: z.string().min(1),
  servedModelName: z.array(z.string().min(1)).min(1).optional(),
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(8000),
  tensorParallelSize: positiveInt.default(1),
  dataParallelSize: positiveInt.default(1),
  maxNumSeqs: positiveInt.default(256),
  /** Default 8192 with chunked prefill (vLLM's online-serving default), else max(max_model_len, 2048). */
  maxNumBatchedTokens: positiveInt.optional(),
  blockSize: z
    .union([
      z.literal(1),
      z.literal(8),
      z.literal(16),
      z.literal(32),
      z.literal(64),
      z.literal(128),
    ])
    .default(16),
  numGpuBlocksOverride: positiveInt.optional(),
  gpuMemoryUtilization: z.number().gt(0).max(1).default(0.9),
  /** Default: the profile's context length. */
  maxModelLen: positiveInt.optional(),
  enableChunkedPrefill: z.boolean().default(true),
  /** vllm/config/cache.py `CacheDType`; fp8 halves the bytes per cached token. */
  kvCacheDtype: z
    .enum(["auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc", "fp8_ds_mla"])
    .default("auto"),
  enablePrefixCaching: z.boolean().default(true),
  apiKey: z.string().min(1).optional(),
  seed: z.number().int().default(0),
  simProfile: z.string().default(DEFAULT_PROFILE),
  simSerialFraction: probability.default(0.08),
  simTimeScale: z.number().positive().default(1),
  simFailRate: probability.default(0),
  simCrashAfter: positiveInt.optional(),
  simStallMs: z.number().min(0).default(0),
  simTruncateRate: probability.default(0),
  simStartupDelayMs: z.number().min(0).default(0),
  /** Interval of the stats log line (vLLM logs every 10 s; a server log per minute is enough here). */
  statsIntervalMs: z.number().positive().default(60_000),
  /** Keep every step's timing in memory for inspection (tests). */
  recordSteps: z.boolean().default(false),
});

export type SimOptions = z.infer<typeof SimOptionsSchema>;
export type SimOptionsInput = z.input<typeof SimOptionsSchema>;

/** Options plus everything derived from them (profile, KV blocks, budgets). */
export interface ResolvedSim extends SimOptions {
  profile: SimProfile;
  servedNames: string[];
  maxModelLenResolved: number;
  maxNumBatchedTokensResolved: number;
  numGpuBlocks: number;
}

export function resolveSimOptions(input: SimOptionsInput): ResolvedSim {
  const parsed = SimOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    // Name the flag the user typed: tensorParallelSize → --tensor-parallel-size.
    const field = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new ConfigError(issue?.message ?? "invalid simulator options", { field });
  }
  const options = parsed.data;
  const profile = PROFILES[options.simProfile];
  if (!profile) {
    throw new ConfigError(`unknown profile "${options.simProfile}"`, {
      field: "--sim-profile",
      hint: `one of ${Object.keys(PROFILES).join(", ")}`,
    });
  }
  const maxModelLen = options.maxModelLen ?? profile.maxModelLen;
  const maxNumBatchedTokens =
    options.maxNumBatchedTokens ??
    (options.enableChunkedPrefill ? 8192 : Math.max(maxModelLen, 2048));
  if (!options.enableChunkedPrefill && maxNumBatchedTokens < maxModelLen) {
    // vLLM refuses this too: without chunking a full-length prompt must fit one step.
    throw new ConfigError(
      `--max-num-batched-tokens (${maxNumBatchedTokens}) is smaller than --max-model-len (${maxModelLen})`,
      {
        field: "--max-num-batched-tokens",
        hint: "raise it, lower --max-model-len or enable chunked prefill",
      },
    );
  }
  if (maxNumBatchedTokens < options.maxNumSeqs) {
    throw new ConfigError(
      `--max-num-batched-tokens (${maxNumBatchedTokens}) must be at least --max-num-seqs (${options.maxNumSeqs})`,
      { field: "--max-num-batched-tokens" },
    );
  }
  const numGpuBlocks =
    options.numGpuBlocksOverride ??
    kvBlocksFor(
      profile,
      options.tensorParallelSize,
      options.gpuMemoryUtilization,
      options.blockSize,
    );
  if (numGpuBlocks <= 0) {
    throw new ConfigError(
      `${profile.description} does not fit in ${options.tensorParallelSize} GPU(s) at --gpu-memory-utilization ${options.gpuMemoryUtilization}`,
      { field: "--tensor-parallel-size", hint: "raise the tensor-parallel size" },
    );
  }
  return {
    ...options,
    profile,
    servedNames: options.servedModelName ?? [options.model],
    maxModelLenResolved: maxModelLen,
    maxNumBatchedTokensResolved: maxNumBatchedTokens,
    numGpuBlocks,
  };
}
