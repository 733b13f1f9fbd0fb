/**
 * The experiment matrix (`config/experiment_matrix.yaml`): one zod schema from
 * which both validation and the TypeScript types come. This file is the
 * format's documentation; README's "Experiment matrix" section points here.
 */
import { z } from "zod";
import { parseDurationMs } from "./duration.ts";

/** `30s`, `3m`, `1m30s`, `500ms` → milliseconds (> 0 unless `allowZero`). */
export function duration(opts: { allowZero?: boolean } = {}) {
  return z.string({ error: "expected a duration such as 30s or 3m" }).transform((text, ctx) => {
    const trimmed = text.trim();
    if (trimmed.startsWith("-")) {
      ctx.addIssue({ code: "custom", message: `expected a positive duration, got "${text}"` });
      return z.NEVER;
    }
    const ms = parseDurationMs(trimmed);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration such as 30s, 3m or 500ms, got "${text}"`,
      });
      return z.NEVER;
    }
    if (ms === 0 && !opts.allowZero) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration greater than zero, got "${text}"`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

const positiveInt = z
  .int({ error: "expected a whole number" })
  .positive({ error: "expected a whole number > 0" });
const positiveNumber = z
  .number({ error: "expected a number" })
  .positive({ error: "expected a number > 0" });

/** Environment variable names only: the value is read at run time, never stored. */
const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected the NAME of an environment variable" });

// ---------------------------------------------------------------------------
// server

export const ServerKind = z.enum(["sim", "vllm", "external"]);

export const ServerSchema = z.strictObject({
  /** `sim` starts `vscale sim serve`; `vllm` runs `command` as written; `external` starts nothing. */
  kind: ServerKind,
  /** The model name the server must report on `/v1/models`. */
  model: z.string().min(1),
  /**
   * argv template, one element per argument (never a shell string). `{name}`
   * is replaced by a factor or by `model`, `host`, `port`, `tp`, `dp`, `gpus`,
   * `api_key`; an element that is exactly `{name:flag}` becomes `--name` or
   * `--no-name` (dashes for underscores) from a boolean factor, as vLLM's
   * BooleanOptionalAction flags expect. For `sim`, the default is the
   * simulator's command with one flag per server factor.
   */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Extra argv appended to the (default or given) command, e.g. `--sim-time-scale 4`. */
  args: z.array(z.string()).default([]),
  /** How `gpus` splits when only `gpus` is given: tensor or data parallel. */
  parallelism: z.enum(["tp", "dp"]).default("tp"),
  host: z.string().min(1).default("127.0.0.1"),
  /** A fixed port, or `auto` for a free loopback port picked when the server starts. */
  port: z.union([z.int().min(1).max(65535), z.literal("auto")]).default(8000),
  /**
   * Extra environment. `${NAME}` copies a variable from the runner's
   * environment; literal values for names that look secret are refused.
   */
  env: z.record(z.string(), z.string()).default({}),
  health_timeout: duration().default(600_000),
  /** Estimated start-up time, used only by `vscale plan` for the wall-time estimate. */
  start_estimate: duration().default(60_000),
  /**
   * The GPUs (nvidia-smi indices) an external server runs on, so GPU figures
   * cover those only; without it they are host-wide. Started servers use
   * CUDA_VISIBLE_DEVICES instead.
   */
  gpu_indices: z.array(z.int().min(0)).min(1).optional(),
  /** Base URL of an already-running server (`kind: external` only). */
  url: z.url({ error: "expected a URL such as http://10.0.0.5:8000" }).optional(),
});

// ---------------------------------------------------------------------------
// load

export const LoadSchema = z.strictObject({
  engine: z.enum(["node", "k6"]).default("node"),
  /** closed: a fixed number of users, each sending after the previous reply; open: arrivals at a rate. */
  mode: z.enum(["closed", "open"]).default("closed"),
  /** closed loop: concurrent users (also a factor). */
  users: positiveInt.optional(),
  /** closed loop: users started per second during ramp-up (Locust's spawn rate); default all at once. */
  spawn_rate: positiveNumber.optional(),
  /** closed loop: pause between a user's requests. */
  think_time: duration({ allowZero: true }).default(0),
  /** open loop: mean requests per second (also a factor). */
  rate: positiveNumber.optional(),
  /** open loop: inter-arrival distribution, as `vllm bench serve` offers. */
  arrival: z.enum(["constant", "poisson", "gamma"]).default("poisson"),
  /** gamma arrivals: shape factor; 1 = Poisson, < 1 burstier, > 1 smoother. */
  burstiness: positiveNumber.default(1),
  /** open loop: cap on requests in flight; arrivals beyond it wait. */
  max_concurrency: positiveInt.optional(),
  duration: duration(),
  warmup: duration({ allowZero: true }).default(0),
  max_tokens: positiveInt.default(128),
  stream: z.boolean().default(true),
  ignore_eos: z.boolean().default(true),
  temperature: z.number().min(0).default(0),
  /** Per-request timeout. */
  timeout: duration().default(120_000),
  api: z.enum(["chat", "completions"]).default("chat"),
  /** NAME of the environment variable holding the API key; the key itself never appears in files. */
  api_key_env: envVarName.optional(),
  /** At the end of the window: cancel in-flight requests, or let them finish. */
  drain: z.boolean().default(false),
});

// ---------------------------------------------------------------------------
// prompts

export const TokenDistSchema = z.discriminatedUnion(
  "dist",
  [
    z.strictObject({ dist: z.literal("fixed"), mean: positiveInt }),
    z.strictObject({ dist: z.literal("uniform"), min: positiveInt, max: positiveInt }),
    z.strictObject({
      dist: z.literal("normal"),
      mean: positiveNumber,
      std: z.number().min(0),
      min: positiveInt.optional(),
      max: positiveInt.optional(),
    }),
  ],
  { error: "expected dist: fixed, uniform or normal" },
);

export const FilePromptSetSchema = z.strictObject({
  /** One prompt a line (`.txt`), or JSONL with `prompt` or `messages` (`.jsonl`); relative to the matrix file. */
  file: z.string().min(1),
});

export const SyntheticPromptSetSchema = z.strictObject({
  /** Prompt length in tokens, drawn per prompt from this seeded distribution. */
  tokens: TokenDistSchema,
  /** How many distinct prompts to generate. */
  count: positiveInt.default(256),
  /** Used when the server has no `/tokenize` to calibrate against; recorded as an estimate. */
  chars_per_token: positiveNumber.default(4),
});

export const PromptSetSchema = z.union([FilePromptSetSchema, SyntheticPromptSetSchema], {
  error: "expected either `file: <path>` or `tokens: {dist: …}`",
});

// ---------------------------------------------------------------------------
// factors

/**
 * Every factor a matrix may vary, with the type of one value. Server factors
 * become command-line flags; load factors override the `load` section.
 */
export const FACTOR_VALUE = {
  gpus: positiveInt,
  tp: positiveInt,
  dp: positiveInt,
  users: positiveInt,
  rate: positiveNumber,
  burstiness: positiveNumber,
  prompt_set: z.string().min(1),
  max_tokens: positiveInt,
  max_num_seqs: positiveInt,
  max_num_batched_tokens: positiveInt,
  block_size: positiveInt,
  num_gpu_blocks: positiveInt,
  gpu_memory_utilization: z.number().gt(0).max(1),
  max_model_len: positiveInt,
  enable_chunked_prefill: z.boolean(),
  enable_prefix_caching: z.boolean(),
  sim_serial_fraction: z.number().min(0).max(1),
} as const;

export type FactorName = keyof typeof FACTOR_VALUE;
export const FACTOR_NAMES = Object.keys(FACTOR_VALUE) as FactorName[];

/** Factors that change how the load is generated, not the server. */
export const LOAD_FACTORS: readonly FactorName[] = [
  "users",
  "rate",
  "burstiness",
  "prompt_set",
  "max_tokens",
];

/**
 * Server factors and the vLLM flag each maps to (the simulator takes the same
 * flags). `gpus` has no flag: it becomes tp × dp and `CUDA_VISIBLE_DEVICES`.
 */
export const SERVER_FLAGS: Partial<Record<FactorName, string>> = {
  tp: "--tensor-parallel-size",
  dp: "--data-parallel-size",
  max_num_seqs: "--max-num-seqs",
  max_num_batched_tokens: "--max-num-batched-tokens",
  block_size: "--block-size",
  num_gpu_blocks: "--num-gpu-blocks-override",
  gpu_memory_utilization: "--gpu-memory-utilization",
  max_model_len: "--max-model-len",
  enable_chunked_prefill: "--enable-chunked-prefill",
  enable_prefix_caching: "--enable-prefix-caching",
  sim_serial_fraction: "--sim-serial-fraction",
};

export type FactorValue = number | string | boolean;

/** A factor is one value or a non-empty list of values. */
function oneOrMany<T extends z.ZodType>(value: T) {
  return z
    .union([value, z.array(value).min(1, { error: "expected at least one value" })])
    .optional();
}

const f = FACTOR_VALUE;
export const FactorsSchema = z.strictObject({
  gpus: oneOrMany(f.gpus),
  tp: oneOrMany(f.tp),
  dp: oneOrMany(f.dp),
  users: oneOrMany(f.users),
  rate: oneOrMany(f.rate),
  burstiness: oneOrMany(f.burstiness),
  prompt_set: oneOrMany(f.prompt_set),
  max_tokens: oneOrMany(f.max_tokens),
  max_num_seqs: oneOrMany(f.max_num_seqs),
  max_num_batched_tokens: oneOrMany(f.max_num_batched_tokens),
  block_size: oneOrMany(f.block_size),
  num_gpu_blocks: oneOrMany(f.num_gpu_blocks),
  gpu_memory_utilization: oneOrMany(f.gpu_memory_utilization),
  max_model_len: oneOrMany(f.max_model_len),
  enable_chunked_prefill: oneOrMany(f.enable_chunked_prefill),
  enable_prefix_caching: oneOrMany(f.enable_prefix_caching),
  sim_serial_fraction: oneOrMany(f.sim_serial_fraction),
} satisfies Record<FactorName, z.ZodType>);

/** A partial assignment of factors; a list means "any of these". */
export const RuleSchema = FactorsSchema;

// ---------------------------------------------------------------------------
// the whole matrix

export const MatrixSchema = z.strictObject({
  /** Campaign name: results go to `results/raw/<campaign>/`. */
  campaign: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: "expected letters, digits, '.', '_' or '-'" }),
  description: z.string().optional(),
  seed: z.int().min(0).default(0),
  repeats: positiveInt.default(1),
  server: ServerSchema,
  load: LoadSchema,
  prompts: z.record(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, { error: "prompt set names use letters, digits, '_' or '-'" }),
    PromptSetSchema,
  ),
  factors: FactorsSchema.default({}),
  exclude: z.array(RuleSchema).default([]),
  include: z.array(RuleSchema).default([]),
});

export type Matrix = z.output<typeof MatrixSchema>;
export type MatrixInput = z.input<typeof MatrixSchema>;
export type ServerConfig = z.output<typeof ServerSchema>;
export type LoadConfig = z.output<typeof LoadSchema>;
export type PromptSetSpec = z.output<typeof PromptSetSchema>;
export type FilePromptSet = z.output<typeof FilePromptSetSchema>;
export type SyntheticPromptSet = z.output<typeof SyntheticPromptSetSchema>;
export type TokenDist = z.output<typeof TokenDistSchema>;
export type Factors = z.output<typeof FactorsSchema>;
