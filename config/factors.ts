/**
 * Every factor a matrix may vary, one row each: the schema of one value,
 * whether it shapes the load or the server, the vLLM flag it becomes, its code
 * in experiment ids and the type of its column in `summary.parquet`. Every
 * other factor table (the matrix schema, the flag mapping, the id codes, the
 * summary columns) is derived from this one, so adding a factor is one row.
 */
import { z } from "zod";
import { SCENARIOS } from "./scenarios.ts";
import { boundedInt, boundedNumber, positiveInt } from "./values.ts";

/** Column types a factor can have in the aggregate tables (a subset of formats' ColumnType). */
export type FactorColumnType = "int64" | "float64" | "bool" | "dict";

export interface FactorRow {
  /** Schema of one value (a matrix gives one value or a list of them). */
  value: z.ZodType<number | string | boolean>;
  /** `load` factors override the `load` section; `server` factors configure the server. */
  role: "load" | "server";
  /**
   * The `vllm serve` flag (the simulator takes the same ones), or null when the
   * factor reaches the server another way (`gpus` becomes tp × dp and CUDA_VISIBLE_DEVICES).
   */
  flag: string | null;
  /** Prefix in ids: `mns` + 64 → `mns64`; booleans give 1 or 0 (`cp1`); "" keeps the bare value. */
  code: string;
  /** Column type in summary.parquet. */
  column: FactorColumnType;
}

// Order matters: it is the order of codes in experiment ids and of columns in summaries.
export const FACTORS = {
  gpus: { value: positiveInt, role: "server", flag: null, code: "g", column: "int64" },
  tp: {
    value: positiveInt,
    role: "server",
    flag: "--tensor-parallel-size",
    code: "tp",
    column: "int64",
  },
  dp: {
    value: positiveInt,
    role: "server",
    flag: "--data-parallel-size",
    code: "dp",
    column: "int64",
  },
  // Pipeline stages per replica: vLLM places tp × pp × dp GPUs (vllm/config/parallel.py world_size).
  pp: {
    value: positiveInt,
    role: "server",
    flag: "--pipeline-parallel-size",
    code: "pp",
    column: "int64",
  },
  users: { value: boundedInt("users"), role: "load", flag: null, code: "u", column: "int64" },
  rate: { value: boundedNumber("rate"), role: "load", flag: null, code: "rate", column: "float64" },
  burstiness: {
    value: boundedNumber("burstiness"),
    role: "load",
    flag: null,
    code: "b",
    column: "float64",
  },
  prompt_set: { value: z.string().min(1), role: "load", flag: null, code: "", column: "dict" },
  max_tokens: {
    value: boundedInt("tokens"),
    role: "load",
    flag: null,
    code: "mt",
    column: "int64",
  },
  // Controlled batching (load.scenario, config/scenario-check.ts): the scenario, B and C.
  scenario: { value: z.enum(SCENARIOS), role: "load", flag: null, code: "", column: "dict" },
  batch_size: { value: boundedInt("users"), role: "load", flag: null, code: "bt", column: "int64" },
  prompt_tokens: {
    value: boundedInt("tokens"),
    role: "load",
    flag: null,
    code: "pt",
    column: "int64",
  },
  max_num_seqs: {
    value: positiveInt,
    role: "server",
    flag: "--max-num-seqs",
    code: "mns",
    column: "int64",
  },
  max_num_batched_tokens: {
    value: positiveInt,
    role: "server",
    flag: "--max-num-batched-tokens",
    code: "mbt",
    column: "int64",
  },
  block_size: {
    value: positiveInt,
    role: "server",
    flag: "--block-size",
    code: "bs",
    column: "int64",
  },
  num_gpu_blocks: {
    value: positiveInt,
    role: "server",
    flag: "--num-gpu-blocks-override",
    code: "kv",
    column: "int64",
  },
  gpu_memory_utilization: {
    value: z.number().gt(0).max(1),
    role: "server",
    flag: "--gpu-memory-utilization",
    code: "gmu",
    column: "float64",
  },
  max_model_len: {
    value: positiveInt,
    role: "server",
    flag: "--max-model-len",
    code: "mml",
    column: "int64",
  },
  enable_chunked_prefill: {
    value: z.boolean(),
    role: "server",
    flag: "--enable-chunked-prefill",
    code: "cp",
    column: "bool",
  },
  enable_prefix_caching: {
    value: z.boolean(),
    role: "server",
    flag: "--enable-prefix-caching",
    code: "pc",
    column: "bool",
  },
  // A step of a `load.sweep` (config/sweep.ts): 0 synchronous, 1 throughput, 2… rates.
  sweep_step: {
    value: z.int().min(0),
    role: "load",
    flag: null,
    code: "sw",
    column: "int64",
  },
  sim_serial_fraction: {
    value: z.number().min(0).max(1),
    role: "server",
    flag: "--sim-serial-fraction",
    code: "s",
    column: "float64",
  },
} as const satisfies Record<string, FactorRow>;

type Rows = typeof FACTORS;
export type FactorName = keyof Rows;
export type FactorValue = number | string | boolean;

export const FACTOR_NAMES = Object.keys(FACTORS) as FactorName[];

function derive<T>(pick: (row: FactorRow, name: FactorName) => T): Record<FactorName, T> {
  return Object.fromEntries(
    FACTOR_NAMES.map((name) => [name, pick(FACTORS[name], name)]),
  ) as Record<FactorName, T>;
}

/** The schema of one value of each factor. */
export const FACTOR_VALUE = derive((row) => row.value) as { [K in FactorName]: Rows[K]["value"] };

/** Factors that change how the load is generated, not the server. */
export const LOAD_FACTORS: readonly FactorName[] = FACTOR_NAMES.filter(
  (name) => FACTORS[name].role === "load",
);

/** Server factors that are passed as a vLLM flag, and that flag. */
export const SERVER_FLAGS: Partial<Record<FactorName, string>> = Object.fromEntries(
  FACTOR_NAMES.flatMap((name) => {
    const flag: string | null = FACTORS[name].flag;
    return flag === null ? [] : [[name, flag]];
  }),
);

/** Short codes for ids (`g4`, `mns64`, `cp1`, `medium`): ids never depend on YAML key order. */
export const ID_CODES = derive(
  (row) => (value: FactorValue) =>
    `${row.code}${typeof value === "boolean" ? (value ? 1 : 0) : String(value)}`,
);

/** Column type of each factor in summary.parquet. */
export const FACTOR_COLUMN_TYPES = derive((row) => row.column);

/** A factor is one value or a non-empty list of values. */
function oneOrMany<T extends z.ZodType>(value: T) {
  return z
    .union([value, z.array(value).min(1, { error: "expected at least one value" })])
    .optional();
}

type OneOrMany<T extends z.ZodType> = ReturnType<typeof oneOrMany<T>>;

/** The `factors:` section (and each include/exclude rule): every factor optional. */
export const FactorsSchema = z.strictObject(
  derive((row) => oneOrMany(row.value)) as { [K in FactorName]: OneOrMany<Rows[K]["value"]> },
);
