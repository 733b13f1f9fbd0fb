/**
 * The simulator's options: vLLM's `serve` flags (same defaults, camelCased)
 * plus the simulator-only `sim*` knobs. One schema for both the CLI and the
 * in-process API; `resolveSimOptions` fills defaults and checks consistency.
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ConfigError } from "../common/errors.ts";
import { readStepProfile, type StepProfile } from "../formats/step-profile.ts";
import { VLLM_RELEASE } from "../formats/vllm-metrics.ts";
import { kvBlocksFor } from "./engine/cost-model.ts";
import { DEFAULT_PROFILE, PROFILES, type SimProfile } from "./engine/profiles.ts";

/** The vLLM release whose API and metrics the simulator mimics (GET /version). */
export const MIMICKED_VLLM_VERSION = VLLM_RELEASE.version;

/** The planted serial fraction when no fitted profile gives the step time. */
export const DEFAULT_SERIAL_FRACTION = 0.08;

/** vllm/config/cache.py `CacheDType`; `auto` is the model's dtype (bf16 here). */
export const KV_CACHE_DTYPES = [
  "auto",
  "bfloat16",
  "fp8",
  "fp8_e4m3",
  "fp8_e5m2",
  "fp8_inc",
  "fp8_ds_mla",
] as const;

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);

export const SimOptionsSchema = z.strictObject({
  model: z.string().min(1),
  servedModelName: z.array(z.string().min(1)).min(1).optional(),
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(8000),
  tensorParallelSize: positiveInt.default(1),
  pipelineParallelSize: positiveInt.default(1),
  dataParallelSize: positiveInt.default(1),
  /** Default by hardware, as vLLM's `get_batch_defaults`. */
  maxNumSeqs: positiveInt.optional(),
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
  /** fp8 halves the bytes per cached token, so the same memory holds twice the blocks. */
  kvCacheDtype: z.enum(KV_CACHE_DTYPES).default("auto"),
  enablePrefixCaching: z.boolean().default(true),
  apiKey: z.string().min(1).optional(),
  /** Add X-Request-Id to every response (vLLM's --enable-request-id-headers). */
  enableRequestIdHeaders: z.boolean().default(false),
  seed: z.number().int().default(0),
  /** A built-in profile name, or a profile.json written by `vscale fit-steps`. */
  simProfile: z.string().default(DEFAULT_PROFILE),
  /** Planted Amdahl s (default 0.08); not with a fitted profile, which measures it. */
  simSerialFraction: probability.optional(),
  simTimeScale: z.number().positive().default(1),
  simFailRate: probability.default(0),
  simCrashAfter: positiveInt.optional(),
  simStallMs: z.number().min(0).default(0),
  simTruncateRate: probability.default(0),
  simStartupDelayMs: z.number().min(0).default(0),
  /** Modelled ms added to every step's schedule phase (a slowed scheduler), ÷ simTimeScale. */
  simScheduleDelayMs: z.number().min(0).default(0),
  /**
   * `VLLM_TORCH_PROFILER_DIR`: enables `POST /start_profile` / `/stop_profile`, which write a
   * chrome trace of the modelled steps there (vllm/entrypoints/serve/profile/api_router.py).
   */
  torchProfilerDir: z.string().min(1).optional(),
  /** `VLLM_PROFILING_DIR`: a profilemate session (seed 003) written there at clean shutdown. */
  profilingDir: z.string().min(1).optional(),
  /**
   * `VLLM_STEP_STATS_DIR` (our name): seed 000's `execution_stats_*.csv`, written there at
   * clean shutdown (the seed's patch writes `./execution_step_data/train/`).
   */
  stepStatsDir: z.string().min(1).optional(),
  /** Interval of the stats log line (vLLM logs every 10 s; a server log per minute is enough here). */
  statsIntervalMs: z.number().positive().default(60_000),
  /** Keep every step's timing in memory for inspection (tests). */
  recordSteps: z.boolean().default(false),
});

export type SimOptions = z.infer<typeof SimOptionsSchema>;
export type SimOptionsInput = z.input<typeof SimOptionsSchema>;

/** Options plus everything derived from them (profile, KV blocks, budgets). */
export interface ResolvedSim extends Omit<SimOptions, "maxNumSeqs" | "simSerialFraction"> {
  profile: SimProfile;
  /** Measured step times (`--sim-profile FILE` or a fitted built-in); null: the planted law. */
  stepProfile: StepProfile | null;
  /** The planted s; null when a fitted profile gives the step time. */
  simSerialFraction: number | null;
  maxNumSeqs: number;
  servedNames: string[];
  maxModelLenResolved: number;
  maxNumBatchedTokensResolved: number;
  /** KV blocks per replica. */
  numGpuBlocks: number;
  /** GPUs a replica spans: TP × PP. */
  gpusPerReplica: number;
}

const PROFILE_DIR = fileURLToPath(new URL("./profiles/", import.meta.url));

/** A built-in name or a profile file: the hardware figures and the fitted steps, if any. */
function resolveProfile(name: string): { profile: SimProfile; stepProfile: StepProfile | null } {
  const builtIn = PROFILES[name];
  if (builtIn) {
    const file = builtIn.fittedSteps;
    return { profile: builtIn, stepProfile: file ? readStepProfile(PROFILE_DIR + file) : null };
  }
  if (!name.endsWith(".json")) {
    throw new ConfigError(`unknown profile "${name}"`, {
      field: "--sim-profile",
      hint: `one of ${Object.keys(PROFILES).join(", ")}, or a profile.json from vscale fit-steps`,
    });
  }
  const stepProfile = readStepProfile(name);
  const base = PROFILES[stepProfile.base_profile];
  if (!base) {
    throw new ConfigError(`base_profile "${stepProfile.base_profile}" is not a built-in profile`, {
      file: name,
      field: "base_profile",
      hint: `one of ${Object.keys(PROFILES).join(", ")}`,
    });
  }
  return { profile: base, stepProfile };
}

/**
 * vLLM's `EngineArgs.get_batch_defaults` for the OpenAI server: GPUs with at
 * least 70 GiB other than A100 get 1024 sequences and 8192 batched tokens,
 * others 256 and 2048 (vllm/engine/arg_utils.py).
 */
export function batchDefaults(profile: SimProfile): {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
} {
  const large = profile.gpuMemoryGiB >= 70 && !/a100/i.test(profile.description);
  return large
    ? { maxNumSeqs: 1024, maxNumBatchedTokens: 8192 }
    : { maxNumSeqs: 256, maxNumBatchedTokens: 2048 };
}

/** Bytes per cached value relative to the model's bf16. */
function kvDtypeFactor(dtype: SimOptions["kvCacheDtype"]): number {
  return dtype === "auto" || dtype === "bfloat16" ? 1 : 0.5;
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
  const { profile, stepProfile } = resolveProfile(options.simProfile);
  if (stepProfile) checkFittedProfile(stepProfile, options);
  if (options.kvCacheDtype === "fp8_ds_mla") {
    // vllm/config/cache.py: fp8_ds_mla is DeepSeek's MLA layout only.
    throw new ConfigError("fp8_ds_mla is only for MLA models (DeepSeek)", {
      field: "--kv-cache-dtype",
    });
  }
  const maxModelLen = options.maxModelLen ?? profile.maxModelLen;
  const defaults = batchDefaults(profile);
  const explicitSeqs = options.maxNumSeqs;
  let maxNumBatchedTokens = options.maxNumBatchedTokens;
  if (maxNumBatchedTokens === undefined) {
    maxNumBatchedTokens = defaults.maxNumBatchedTokens;
    if (!options.enableChunkedPrefill)
      maxNumBatchedTokens = Math.max(maxModelLen, maxNumBatchedTokens);
    maxNumBatchedTokens = Math.min(
      (explicitSeqs ?? defaults.maxNumSeqs) * maxModelLen,
      maxNumBatchedTokens,
    );
  }
  const maxNumSeqs = explicitSeqs ?? Math.min(defaults.maxNumSeqs, maxNumBatchedTokens);
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
  if (maxNumBatchedTokens < maxNumSeqs) {
    throw new ConfigError(
      `--max-num-batched-tokens (${maxNumBatchedTokens}) must be at least --max-num-seqs (${maxNumSeqs})`,
      { field: "--max-num-batched-tokens" },
    );
  }
  const gpusPerReplica = options.tensorParallelSize * options.pipelineParallelSize;
  const numGpuBlocks =
    options.numGpuBlocksOverride ??
    kvBlocksFor(
      profile,
      gpusPerReplica,
      options.gpuMemoryUtilization,
      options.blockSize,
      kvDtypeFactor(options.kvCacheDtype),
    );
  if (numGpuBlocks <= 0) {
    throw new ConfigError(
      `${profile.description} does not fit in ${gpusPerReplica} GPU(s) at --gpu-memory-utilization ${options.gpuMemoryUtilization}`,
      { field: "--tensor-parallel-size", hint: "raise the tensor- or pipeline-parallel size" },
    );
  }
  return {
    ...options,
    profile,
    stepProfile,
    simSerialFraction: stepProfile ? null : (options.simSerialFraction ?? DEFAULT_SERIAL_FRACTION),
    maxNumSeqs,
    gpusPerReplica,
    servedNames: options.servedModelName ?? [options.model],
    maxModelLenResolved: maxModelLen,
    maxNumBatchedTokensResolved: maxNumBatchedTokens,
    numGpuBlocks,
  };
}

/** A fitted profile gives the step time: no planted law beside it, and only measured TP sizes. */
function checkFittedProfile(stepProfile: StepProfile, options: SimOptions): void {
  if (options.simSerialFraction !== undefined) {
    throw new ConfigError("a fitted step profile measures the scaling: it takes no planted s", {
      field: "--sim-serial-fraction",
      hint: "drop --sim-serial-fraction, or use a built-in formula profile such as llama-8b-h100",
    });
  }
  const floors = stepProfile.execute.floor?.terms.filter((t) => t.tp !== undefined) ?? [];
  if (floors.length > 0 && !floors.some((t) => t.tp === options.tensorParallelSize)) {
    throw new ConfigError(
      `the step profile has no measurement at tensor-parallel size ${options.tensorParallelSize}`,
      { field: "--tensor-parallel-size", hint: `measured: ${stepProfile.tp_levels.join(", ")}` },
    );
  }
}
