/**
 * `vscale sim serve MODEL [flags]`: parse argv the way `vllm serve` does, so
 * a real command template works unchanged. vLLM's flag names and defaults,
 * `-tp`/`-dp`, `--flag=value` and `--flag value`, BooleanOptionalAction
 * booleans (`--enable-x` / `--no-enable-x`), underscores accepted as dashes.
 * Unknown flags get one warning line each; bad values are ConfigErrors.
 */

import { ConfigError } from "../common/errors.ts";
import { parseDurationMs } from "../config/duration.ts";
import { profileNames } from "./engine/profiles.ts";
import type { SimOptionsInput } from "./options.ts";

type Kind = "int" | "float" | "string" | "bool" | "duration" | "names";

interface FlagSpec {
  key: keyof SimOptionsInput;
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
  "--data-parallel-size": {
    key: "dataParallelSize",
    kind: "int",
    help: "DP replicas, -dp (default 1)",
  },
  "--max-num-seqs": {
    key: "maxNumSeqs",
    kind: "int",
    help: "max running sequences per replica (default 256)",
  },
  "--max-num-batched-tokens": {
    key: "maxNumBatchedTokens",
    kind: "int",
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
    kind: "int",
    help: "context length (default: profile's)",
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
  "--seed": { key: "seed", kind: "int", help: "random seed (default 0)" },
  "--sim-seed": { key: "seed", kind: "int", help: "same as --seed" },
  "--sim-profile": {
    key: "simProfile",
    kind: "string",
    help: `one of ${profileNames().join(", ")}`,
  },
  "--sim-serial-fraction": {
    key: "simSerialFraction",
    kind: "float",
    help: "planted Amdahl s (default 0.08)",
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
  "--sim-stats-interval": {
    key: "statsIntervalMs",
    kind: "duration",
    help: "stats log interval (default 1m)",
  },
};

const SHORT_FLAGS: Record<string, string> = {
  "-tp": "--tensor-parallel-size",
  "-dp": "--data-parallel-size",
};

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
      warnings.push(
        `WARNING vscale sim: ignoring vLLM flag ${name}${takesValue ? ` ${next}` : ""} (not modelled)`,
      );
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
  if (options.apiKey === undefined && env.VLLM_API_KEY) options.apiKey = env.VLLM_API_KEY;
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
    "A vLLM-compatible simulated server with a planted Amdahl scaling law.",
    "Other vLLM flags are accepted with a warning. Booleans take --no-<flag> to disable.",
    "",
    ...lines,
  ].join("\n");
}
