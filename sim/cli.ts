/**
 * `vscale sim serve MODEL [flags]`: parse argv the way `vllm serve` does
 * (vllm/engine/arg_utils.py, vllm/utils/argparse_utils.py at v0.16.0), so a
 * real command template works unchanged. vLLM's flag names and defaults,
 * `-tp`/`-pp`/`-dp`, `--flag=value` and `--flag value`, BooleanOptionalAction
 * booleans (`--enable-x` / `--no-enable-x`), underscores accepted as dashes,
 * argparse's unique-prefix abbreviations, `human_readable_int` for
 * `--max-model-len` (also `auto`) and `--max-num-batched-tokens`.
 * Unknown flags are an error, as argparse's "unrecognized arguments", unless
 * `--sim-ignore-unknown-flags` turns each into a warning line.
 */

import { ConfigError } from "../common/errors.ts";
import { parseDurationMs } from "../config/duration.ts";
import { profileNames } from "./engine/profiles.ts";
import { KV_CACHE_DTYPES, type SimOptionsInput } from "./options.ts";

type Kind = "int" | "readable-int" | "float" | "string" | "bool" | "duration" | "names";

/** Parse-level switches that are not server options. */
type ParseKey = "simIgnoreUnknownFlags";

interface FlagSpec {
  key: keyof SimOptionsInput | ParseKey;
  kind: Kind;
  help: string;
}

export const SERVE_FLAGS: Record<string, FlagSpec> = {
  "--host": { key: "host", kind: "string", help: "bind address (default 127.0.0.1)" },
  "--port": { key: "port", kind: "int", help: "port (default 8000)" },
  "--tensor-parallel-size": {
    key: "tensorParallelSize",
    kind: "int",
    help: "TP size, -tp (default 1)",
  },
  "--pipeline-parallel-size": {
    key: "pipelineParallelSize",
    kind: "int",
    help: "PP stages, -pp (default 1); GPUs = TP × PP × DP",
  },
  "--data-parallel-size": {
    key: "dataParallelSize",
    kind: "int",
    help: "DP replicas, -dp (default 1)",
  },
  "--max-num-seqs": {
    key: "maxNumSeqs",
    kind: "int",
    help: "max running sequences per replica (default 1024 on ≥ 70 GiB GPUs but A100, else 256)",
  },
  "--max-num-batched-tokens": {
    key: "maxNumBatchedTokens",
    kind: "readable-int",
    help: "token budget per step",
  },
  "--block-size": { key: "blockSize", kind: "int", help: "KV block size in tokens (default 16)" },
  "--num-gpu-blocks-override": {
    key: "numGpuBlocksOverride",
    kind: "int",
    help: "KV blocks per replica",
  },
  "--gpu-memory-utilization": { key: "gpuMemoryUtilization", kind: "float", help: "default 0.9" },
  "--max-model-len": {
    key: "maxModelLen",
    kind: "readable-int",
    help: "context length, e.g. 32k (default or auto: the profile's)",
  },
  "--kv-cache-dtype": {
    key: "kvCacheDtype",
    kind: "string",
    help: `${KV_CACHE_DTYPES.join(", ")} (fp8: twice the KV blocks)`,
  },
  "--enable-chunked-prefill": { key: "enableChunkedPrefill", kind: "bool", help: "default on" },
  "--enable-prefix-caching": { key: "enablePrefixCaching", kind: "bool", help: "default on" },
  "--served-model-name": {
    key: "servedModelName",
    kind: "names",
    help: "names served (default MODEL)",
  },
  "--api-key": {
    key: "apiKey",
    kind: "string",
    help: "require Bearer key on /v1 (or VLLM_API_KEY)",
  },
  "--enable-request-id-headers": {
    key: "enableRequestIdHeaders",
    kind: "bool",
    help: "add X-Request-Id to responses",
  },
  "--seed": { key: "seed", kind: "int", help: "random seed (default 0)" },
  "--sim-seed": { key: "seed", kind: "int", help: "same as --seed" },
  "--sim-profile": {
    key: "simProfile",
    kind: "string",
    help: `one of ${profileNames().join(", ")}, or a profile.json from vscale fit-steps`,
  },
  "--sim-serial-fraction": {
    key: "simSerialFraction",
    kind: "float",
    help: "planted Amdahl s (default 0.08; not with a fitted profile)",
  },
  "--sim-ignore-unknown-flags": {
    key: "simIgnoreUnknownFlags",
    kind: "bool",
    help: "warn about vLLM flags the simulator does not model instead of failing",
  },
  "--sim-time-scale": {
    key: "simTimeScale",
    kind: "float",
    help: "run the simulated GPU X times faster",
  },
  "--sim-fail-rate": {
    key: "simFailRate",
    kind: "float",
    help: "fraction of requests answered 500",
  },
  "--sim-crash-after": {
    key: "simCrashAfter",
    kind: "int",
    help: "exit(1) mid-stream after N accepted requests",
  },
  "--sim-stall-ms": {
    key: "simStallMs",
    kind: "float",
    help: "pause each stream MS ms after its first token",
  },
  "--sim-truncate-rate": {
    key: "simTruncateRate",
    kind: "float",
    help: "fraction of streams cut mid-way",
  },
  "--sim-startup-delay": {
    key: "simStartupDelayMs",
    kind: "duration",
    help: "e.g. 5s: not listening until then",
  },
  "--sim-schedule-delay-ms": {
    key: "simScheduleDelayMs",
    kind: "float",
    help: "add MS modelled ms to every step's schedule phase (÷ --sim-time-scale)",
  },
  "--sim-stats-interval": {
    key: "statsIntervalMs",
    kind: "duration",
    help: "stats log interval (default 1m)",
  },
};

/** Environment variables that switch the server's profilers on, and the option each sets. */
export const PROFILER_ENV = [
  ["VLLM_TORCH_PROFILER_DIR", "torchProfilerDir"],
  ["VLLM_PROFILING_DIR", "profilingDir"],
  ["VLLM_STEP_STATS_DIR", "stepStatsDir"],
] as const satisfies readonly (readonly [string, keyof SimOptionsInput])[];

const SHORT_FLAGS: Record<string, string> = {
  "-tp": "--tensor-parallel-size",
  "-pp": "--pipeline-parallel-size",
  "-dp": "--data-parallel-size",
};

/** vLLM's `human_readable_int`: 32k = 32,000, 32K = 32,768 (no decimals with K/M/G/T). */
export function parseReadableInt(raw: string): number | undefined {
  const value = raw.trim();
  const match = /^(\d+(?:\.\d+)?)([kKmMgGtT])$/.exec(value);
  if (match) {
    const [, number = "", suffix = ""] = match;
    const decimal: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
    const multiplier = decimal[suffix];
    if (multiplier !== undefined) return Math.trunc(Number(number) * multiplier);
    if (number.includes(".")) return undefined;
    return Number(number) * 2 ** (10 * ("KMGT".indexOf(suffix) + 1));
  }
  return /^-?\d+$/.test(value) ? Number(value) : undefined;
}

/** Every option string argparse would know, for prefix abbreviations: `--no-x` too. */
function optionStrings(): string[] {
  const names = Object.keys(SERVE_FLAGS);
  for (const [flag, spec] of Object.entries(SERVE_FLAGS))
    if (spec.kind === "bool") names.push(`--no-${flag.slice(2)}`);
  return names;
}

/**
 * argparse's `allow_abbrev`: a unique prefix of a long option is that option;
 * a prefix of several is an error naming them.
 */
function expandAbbreviation(name: string): string | undefined {
  if (!name.startsWith("--")) return undefined;
  const matches = optionStrings().filter((option) => option.startsWith(name));
  if (matches.length > 1) {
    throw new ConfigError(`ambiguous option: ${name} could match ${matches.join(", ")}`, {
      field: name,
    });
  }
  return matches[0];
}

export interface ParsedServeArgs {
  options: SimOptionsInput;
  warnings: string[];
  help: boolean;
}

function parseValue(flag: string, spec: FlagSpec, raw: string): unknown {
  const bad = (expected: string) =>
    new ConfigError(`invalid value "${raw}": expected ${expected}`, { field: flag });
  switch (spec.kind) {
    case "int": {
      if (!/^-?\d+$/.test(raw)) throw bad("an integer");
      return Number(raw);
    }
    case "readable-int": {
      // `--max-model-len auto` (or -1): the model's own length (human_readable_int_or_auto).
      if (spec.key === "maxModelLen" && (raw === "-1" || raw.toLowerCase() === "auto"))
        return undefined;
      const value = parseReadableInt(raw);
      if (value === undefined) throw bad("an integer such as 8192, 32k or 32K");
      return value;
    }
    case "float": {
      const value = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(value)) throw bad("a number");
      return value;
    }
    case "duration": {
      const ms = parseDurationMs(raw);
      if (ms === undefined) throw bad("a duration such as 500ms, 5s or 1m");
      return ms;
    }
    case "bool": {
      if (/^(true|1|yes)$/i.test(raw)) return true;
      if (/^(false|0|no)$/i.test(raw)) return false;
      throw bad("true or false");
    }
    default:
      return raw;
  }
}

export function parseServeArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ParsedServeArgs {
  const options: Record<string, unknown> = {};
  const warnings: string[] = [];
  const unknown: string[] = [];
  let model: string | undefined;
  let help = false;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (model === undefined) model = arg;
      else positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    name =
      SHORT_FLAGS[name] ??
      (name.startsWith("--") ? `--${name.slice(2).replaceAll("_", "-")}` : name);
    if (!SERVE_FLAGS[name] && !(name.startsWith("--no-") && SERVE_FLAGS[`--${name.slice(5)}`]))
      name = expandAbbreviation(name) ?? name;
    let negated = false;
    let spec = SERVE_FLAGS[name];
    if (!spec && name.startsWith("--no-")) {
      const positive = `--${name.slice(5)}`;
      if (SERVE_FLAGS[positive]?.kind === "bool") {
        spec = SERVE_FLAGS[positive];
        negated = true;
      }
    }
    if (!spec) {
      // An unknown flag takes the next word as its value when it is not a flag and the
      // model is already known (vLLM puts MODEL first), so `--swap-space 4` stays whole.
      const next = argv[i + 1];
      const takesValue =
        inline === undefined && next !== undefined && !next.startsWith("-") && model !== undefined;
      if (takesValue) i++;
      unknown.push(takesValue ? `${arg} ${next}` : arg);
      continue;
    }
    if (spec.kind === "bool") {
      if (negated && inline !== undefined) {
        throw new ConfigError(`takes no value`, { field: name });
      }
      options[spec.key] = negated
        ? false
        : inline === undefined
          ? true
          : parseValue(name, spec, inline);
      continue;
    }
    if (spec.kind === "names") {
      const names: string[] = inline !== undefined ? [inline] : [];
      while (
        inline === undefined &&
        argv[i + 1] !== undefined &&
        !(argv[i + 1] as string).startsWith("-")
      ) {
        names.push(argv[++i] as string);
      }
      if (names.length === 0) throw new ConfigError("expected at least one name", { field: name });
      options[spec.key] = names;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new ConfigError("expected a value", { field: name });
    options[spec.key] = parseValue(name, spec, raw);
  }
  if (positionals.length > 0) {
    throw new ConfigError(`unexpected argument "${positionals[0]}"`, {
      hint: "MODEL is the only positional argument",
    });
  }
  if (model === undefined && !help)
    throw new ConfigError("missing MODEL", { hint: "vscale sim serve MODEL [flags]" });
  const ignoreUnknown = options.simIgnoreUnknownFlags === true;
  delete options.simIgnoreUnknownFlags;
  if (unknown.length > 0 && !ignoreUnknown) {
    throw new ConfigError(`unrecognized arguments: ${unknown.join(" ")}`, {
      hint: "vLLM refuses these too; --sim-ignore-unknown-flags accepts flags the simulator does not model",
    });
  }
  for (const flag of unknown)
    warnings.push(`WARNING vscale sim: ignoring vLLM flag ${flag} (not modelled)`);
  if (options.enableChunkedPrefill === false) {
    // vllm/engine/arg_utils.py warns the same for generate models, which V1 runs chunked.
    warnings.push(
      "WARNING vscale sim: This model does not officially support disabling chunked prefill. " +
        "Disabling this manually may cause the engine to crash or produce incorrect outputs.",
    );
  }
  if (options.apiKey === undefined && env.VLLM_API_KEY) options.apiKey = env.VLLM_API_KEY;
  // Profilers are switched on by environment, as in vLLM (vllm/envs.py) and profilemate.
  for (const [name, key] of PROFILER_ENV) if (env[name]) options[key] = env[name];
  return { options: { ...options, model: model ?? "" } as SimOptionsInput, warnings, help };
}

/** Map a zod field of SimOptions back to the flag the user typed. */
export function flagForField(field: string): string {
  for (const [flag, spec] of Object.entries(SERVE_FLAGS)) if (spec.key === field) return flag;
  return field;
}

export function serveHelp(): string {
  const lines = Object.entries(SERVE_FLAGS).map(
    ([flag, spec]) => `  ${flag.padEnd(28)} ${spec.help}`,
  );
  return [
    "Usage: vscale sim serve MODEL [vLLM flags] [--sim-* flags]",
    "",
    "A vLLM-compatible simulated server: a planted Amdahl law, or step times fitted from measurements.",
    "Other vLLM flags are errors (as in vLLM) unless --sim-ignore-unknown-flags. Booleans take --no-<flag>.",
    "",
    ...lines,
  ].join("\n");
}
