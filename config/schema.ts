/**
 * The experiment matrix (`config/experiment_matrix.yaml`): one zod schema from
 * which both validation and the TypeScript types come. This file is the
 * format's documentation; README's "Experiment matrix" section points here.
 */
import { z } from "zod";
import { FactorsSchema } from "./factors.ts";
import { LIMITS } from "./limits.ts";
import { SCENARIOS } from "./scenarios.ts";
import { SloSchema } from "./slo.ts";
import { SweepSchema } from "./sweep.ts";
import {
  boundedInt,
  boundedNumber,
  duration,
  envVarName,
  positiveInt,
  positiveNumber,
} from "./values.ts";
import { perGpuSchema } from "./weak-scaling.ts";

// The factors table has its own home; these names stay importable from here.
export {
  FACTOR_NAMES,
  FACTOR_VALUE,
  type FactorName,
  FactorsSchema,
  type FactorValue,
  LOAD_FACTORS,
  SERVER_FLAGS,
} from "./factors.ts";

// ---------------------------------------------------------------------------
// server

export const ServerKind = z.enum(["sim", "vllm", "external"]);

const HOST_MESSAGE = "expected a host name or IP address such as 127.0.0.1, ::1 or gpu-01";
// Dotted digits are an IPv4 address or nothing (`999.1.1.1` is a valid host name to zod).
const hostSchema = z.union([z.ipv4(), z.ipv6(), z.hostname().refine((h) => !/^[\d.]+$/.test(h))], {
  error: HOST_MESSAGE,
});

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
  /** Where a started server listens (and the load connects): a host name or an IP address. */
  host: hostSchema.default("127.0.0.1"),
  /** A fixed port, or `auto` for a free loopback port picked when the server starts. */
  port: z
    .union([z.int().min(1).max(65535), z.literal("auto")], {
      error: "expected a port number (1 to 65535) or auto",
    })
    .default(8000),
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
  /**
   * closed loop: concurrent users (also a factor), or `{per_gpu: n}` for weak
   * scaling: n × gpus users in each experiment (config/weak-scaling.ts).
   */
  users: z.union([boundedInt("users"), perGpuSchema("users")]).optional(),
  /** closed loop: users started per second during ramp-up (Locust's spawn rate); default all at once. */
  spawn_rate: boundedNumber("spawn_rate").optional(),
  /**
   * closed loop: multi-turn sessions of this many turns; each turn sends the
   * conversation so far (load/workload/sessions.ts). 1 = independent requests.
   */
  turns: boundedInt("turns").default(1),
  /** closed loop: pause between a user's requests. */
  think_time: duration({ allowZero: true }).default(0),
  /** open loop: mean requests per second (also a factor), or `{per_gpu: r}` for weak scaling. */
  rate: z.union([boundedNumber("rate"), perGpuSchema("rate")]).optional(),
  /** open loop: inter-arrival distribution, as `vllm bench serve` offers. */
  arrival: z.enum(["constant", "poisson", "gamma"]).default("poisson"),
  /** gamma arrivals: shape factor; 1 = Poisson, < 1 burstier, > 1 smoother. */
  burstiness: boundedNumber("burstiness").default(1),
  /** open loop: cap on requests in flight; arrivals beyond it wait. */
  max_concurrency: boundedInt("users").optional(),
  /**
   * Controlled batching (load/workload/scenarios.ts; also a factor): `mixed` is the free-running
   * load above; `prefill-only` sends waves of exactly batch_size prompts of prompt_tokens tokens
   * with max_tokens 1, the next wave when the last request of the previous one finished;
   * `decode-only` keeps batch_size long streams of short prompts (ignore_eos), each replaced when
   * it ends. Both are closed patterns: no users, rate or think time (config/scenario-check.ts).
   */
  scenario: z.enum(SCENARIOS).default("mixed"),
  /** prefill-only, decode-only: B, the requests of a wave or the streams kept running (also a factor). */
  batch_size: boundedInt("users").optional(),
  /**
   * prefill-only (required), decode-only (default 16): C, every prompt's length in tokens (also a
   * factor); the experiment gets a synthetic fixed-length set of C-token prompts (config/scenarios.ts).
   */
  prompt_tokens: boundedInt("tokens").optional(),
  duration: duration(),
  warmup: duration({ allowZero: true }).default(0),
  max_tokens: boundedInt("tokens").default(128),
  stream: z.boolean().default(true),
  ignore_eos: z.boolean().default(true),
  temperature: z.number().min(0).max(LIMITS.temperature.max).default(0),
  /** Per-request timeout. */
  timeout: duration().default(120_000),
  api: z.enum(["chat", "completions"]).default("chat"),
  /** NAME of the environment variable holding the API key; the key itself never appears in files. */
  api_key_env: envVarName.optional(),
  /** At the end of the window: cancel in-flight requests, or let them finish. */
  drain: z.boolean().default(false),
  /**
   * Node engine: load worker threads, each its own event loop and connection
   * pool. `auto` = the machine's cores minus those a server started on it
   * needs (load/node/auto-workers.ts), never more than the closed loop's users.
   */
  workers: z
    .union([z.literal("auto"), boundedInt("workers")], {
      error: "expected auto or a whole number ≥ 1",
    })
    .default("auto"),
  /**
   * Machines that share each experiment's load (k6's execution segments):
   * `vscale k8s` runs segment i of N on pod i; a local campaign runs all of them.
   */
  segments: boundedInt("segments").default(1),
  /** k6 engine: stream with xk6-sse (`load/k6/chat-sse.ts`) for TTFT and ITL; needs a k6 built with it. */
  k6_sse: z.boolean().default(false),
  /** A rate sweep to saturation (config/sweep.ts); needs mode: open. */
  sweep: SweepSchema.optional(),
  /**
   * Server profiles (campaign/profile-capture.ts): the torch profiler runs from `at` after
   * the window opens for `for` (at + for ≤ duration); profilemate sessions and seed-000 step
   * CSVs are collected when the group's server stops.
   */
  profile: z.strictObject({ at: duration({ allowZero: true }), for: duration() }).optional(),
});

// ---------------------------------------------------------------------------
// prompts

/**
 * Prefix sharing (prompt lengths only): every prompt starts with one of
 * `groups` shared prefixes of `prefix` tokens; the drawn length is the part after it.
 */
const prefixShape = {
  prefix: boundedInt("tokens").optional(),
  groups: boundedInt("prompt_count").optional(),
};

export const TokenDistSchema = z.discriminatedUnion(
  "dist",
  [
    z.strictObject({ dist: z.literal("fixed"), mean: boundedInt("tokens"), ...prefixShape }),
    z.strictObject({
      dist: z.literal("uniform"),
      min: boundedInt("tokens"),
      max: boundedInt("tokens"),
      ...prefixShape,
    }),
    z.strictObject({
      dist: z.literal("normal"),
      mean: boundedNumber("tokens"),
      std: z.number().min(0).max(LIMITS.tokens.max),
      min: boundedInt("tokens").optional(),
      max: boundedInt("tokens").optional(),
      ...prefixShape,
    }),
  ],
  { error: "expected dist: fixed, uniform or normal" },
);

export const FilePromptSetSchema = z.strictObject({
  /**
   * One prompt a line (`.txt`); JSONL with `prompt` or `messages` and an
   * optional `output_tokens` (`.jsonl`); ShareGPT conversations (`.json`, the
   * first human turn is the prompt, its reply's length the output length).
   * Relative to the matrix file.
   */
  file: z.string().min(1),
});

export const SyntheticPromptSetSchema = z.strictObject({
  /** Prompt length in tokens, drawn per prompt from this seeded distribution. */
  tokens: TokenDistSchema,
  /** Output length (`max_tokens`) per prompt, drawn from this seeded distribution; default: `load.max_tokens`. */
  output_tokens: TokenDistSchema.optional(),
  /** How many distinct prompts to generate. */
  count: boundedInt("prompt_count").default(256),
  /** Used when the server has no `/tokenize` to calibrate against; recorded as an estimate. */
  chars_per_token: positiveNumber.default(4),
});

export const PromptSetSchema = z.union([FilePromptSetSchema, SyntheticPromptSetSchema], {
  error: "expected either `file: <path>` or `tokens: {dist: …}`",
});

// ---------------------------------------------------------------------------
// factors (the table and its schema: factors.ts)

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
  /** Named prompt sets; a matrix of scenarios alone (load.scenario) needs none. */
  prompts: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, { error: "prompt set names use letters, digits, '_' or '-'" }),
      PromptSetSchema,
    )
    .default({}),
  /**
   * Latency objectives, e.g. `{ttft_ms_p99: 500, tpot_ms_p99: 50}` (config/slo.ts):
   * goodput counts requests within the ttft/tpot limits; capacity is the highest
   * offered rate whose figures meet all of them (analysis/capacity/).
   */
  slo: SloSchema.optional(),
  factors: FactorsSchema.default({}),
  exclude: z.array(RuleSchema).default([]),
  include: z.array(RuleSchema).default([]),
});

export type Matrix = z.output<typeof MatrixSchema>;
export type MatrixInput = z.input<typeof MatrixSchema>;
export type ServerConfig = z.output<typeof ServerSchema>;
/** The `load` section as written: users and rate may scale with gpus. */
export type LoadSection = z.output<typeof LoadSchema>;
/** One experiment's load: every per-GPU value resolved to a number (config/weak-scaling.ts). */
export type LoadConfig = Omit<LoadSection, "users" | "rate"> & { users?: number; rate?: number };
export type PromptSetSpec = z.output<typeof PromptSetSchema>;
export type FilePromptSet = z.output<typeof FilePromptSetSchema>;
export type SyntheticPromptSet = z.output<typeof SyntheticPromptSetSchema>;
export type TokenDist = z.output<typeof TokenDistSchema>;
export type Factors = z.output<typeof FactorsSchema>;
