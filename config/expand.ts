/**
 * Expansion: the matrix's factors → the list of experiments a campaign runs,
 * grouped by identical server command (one server start per group).
 *
 * Cross-product of factors, minus `exclude` rules, plus `include` rules (each a
 * partial assignment crossed with the remaining factors), times `repeats`.
 * What is implied is derived (tp × dp = gpus) and contradictions are refused.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../common/errors.ts";
import type { MatrixFile } from "./matrix-file.ts";
import { fillTemplate, placeholdersIn } from "./placeholders.ts";
import {
  FACTOR_NAMES,
  type FactorName,
  type FactorValue,
  LOAD_FACTORS,
  type LoadConfig,
  type Matrix,
  type PromptSetSpec,
  SERVER_FLAGS,
  type ServerConfig,
} from "./schema.ts";

export type Assignment = Partial<Record<FactorName, FactorValue>>;

export interface Experiment {
  /** Readable, stable, filesystem-safe: `g4-tp4-u64-medium-mt128-r1`. */
  id: string;
  /** 1-based. */
  repeat: number;
  /** Per-experiment seed, derived from the matrix seed and the id (stable across edits). */
  seed: number;
  /** Every factor assigned, including the derived gpus, tp and dp. */
  factors: Assignment & { gpus: number; tp: number; dp: number };
  /** True when the experiment comes from an `include` rule. */
  included: boolean;
  groupId: string;
  /** The `load` section with this experiment's load factors applied. */
  load: LoadConfig;
  promptSet: { name: string; spec: PromptSetSpec };
}

export interface ServerGroup {
  /** Readable and stable: the server factors, e.g. `g4-tp4` or `g2-tp1-dp2-mns64`. */
  id: string;
  kind: ServerConfig["kind"];
  model: string;
  host: string;
  port: number | "auto";
  /**
   * Resolved argv. For `sim` it starts with `vscale` (the runner substitutes
   * its own entry point). `{port}` (when port is auto) and `{api_key}` remain
   * as placeholders, filled only when the server starts: see `runtimeArgv`.
   */
  argv: string[];
  /** Environment additions; `${NAME}` values are copied from the runner's env at start. */
  env: Record<string, string>;
  /** Base URL for `external`; for started servers it is derived from host and port. */
  url: string | undefined;
  gpus: number;
  healthTimeoutMs: number;
  startEstimateMs: number;
  experimentIds: string[];
}

export interface Plan {
  file: string;
  baseDir: string;
  matrix: Matrix;
  campaign: string;
  experiments: Experiment[];
  groups: ServerGroup[];
  estimate: {
    /** Sum of warm-up + duration over experiments. */
    loadMs: number;
    /** Sum of start estimates over server groups. */
    serverStartMs: number;
    totalMs: number;
  };
}

/** Placeholders every command may use besides factors. */
const BUILTINS = ["model", "host", "port", "seed", "gpus", "tp", "dp", "api_key"] as const;

/** Short codes for ids, in a fixed order so ids do not depend on YAML key order. */
const ID_CODES: Record<FactorName, (v: FactorValue) => string> = {
  gpus: (v) => `g${v}`,
  tp: (v) => `tp${v}`,
  dp: (v) => `dp${v}`,
  users: (v) => `u${v}`,
  rate: (v) => `rate${v}`,
  burstiness: (v) => `b${v}`,
  prompt_set: (v) => String(v),
  max_tokens: (v) => `mt${v}`,
  max_num_seqs: (v) => `mns${v}`,
  max_num_batched_tokens: (v) => `mbt${v}`,
  block_size: (v) => `bs${v}`,
  num_gpu_blocks: (v) => `kv${v}`,
  gpu_memory_utilization: (v) => `gmu${v}`,
  max_model_len: (v) => `mml${v}`,
  enable_chunked_prefill: (v) => `cp${v ? 1 : 0}`,
  enable_prefix_caching: (v) => `pc${v ? 1 : 0}`,
  sim_serial_fraction: (v) => `s${v}`,
};

const SECRET_NAME_RE = /(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)/i;
/** Values shaped like OpenAI-style or Hugging Face keys, whatever flag or variable holds them. */
const SECRET_VALUE_RE = /^(sk-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,})$/;

function safeId(parts: string[]): string {
  return parts.join("-").replace(/[^A-Za-z0-9._-]/g, "_");
}

/** FNV-1a: a small stable hash, so a seed depends only on the matrix seed and the id. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function asList(value: unknown): FactorValue[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]) as FactorValue[];
}

function cartesian(lists: [FactorName, FactorValue[]][]): Assignment[] {
  let out: Assignment[] = [{}];
  for (const [name, values] of lists) {
    out = out.flatMap((partial) => values.map((v) => ({ ...partial, [name]: v })));
  }
  return out;
}

/** Does `assignment` match a rule (every key equal, a list meaning any of)? */
function matches(rule: Assignment | Record<string, unknown>, assignment: Assignment): boolean {
  return Object.entries(rule).every(([key, want]) => {
    if (want === undefined) return true;
    const have = assignment[key as FactorName];
    return Array.isArray(want) ? want.includes(have) : want === have;
  });
}

function isServerFactor(name: FactorName): boolean {
  return name in SERVER_FLAGS;
}

class Expander {
  readonly m: Matrix;
  readonly file: MatrixFile;
  constructor(file: MatrixFile) {
    this.file = file;
    this.m = file.matrix;
  }

  fail(message: string, path: (string | number)[], hint?: string): never {
    throw new ConfigError(message, {
      file: this.file.path,
      ...this.file.locate(path),
      field: path
        .map((k) => (typeof k === "number" ? `[${k}]` : k))
        .join(".")
        .replaceAll(".[", "["),
      hint,
    });
  }

  /** Factor names in the order the user wrote them (the cross-product's nesting order). */
  factorOrder(): FactorName[] {
    const written = Object.keys(
      (this.file.raw.factors as Record<string, unknown> | undefined) ?? {},
    );
    return written.filter((k): k is FactorName => (FACTOR_NAMES as string[]).includes(k));
  }

  checkServer(): void {
    const s = this.m.server;
    if (s.kind === "external" && !s.url)
      this.fail("`kind: external` needs the server's url", ["server"]);
    if (s.kind !== "external" && s.url) {
      this.fail("`url` is only for `kind: external`; started servers listen on host and port", [
        "server",
        "url",
      ]);
    }
    if (s.kind === "external" && s.command) {
      this.fail("`kind: external` starts nothing, so it takes no command", ["server", "command"]);
    }
    if (s.kind === "vllm" && !s.command) {
      this.fail('`kind: vllm` needs a command, e.g. [vllm, serve, "{model}", ...]', ["server"]);
    }
    const argv = [...(s.command ?? []), ...s.args];
    argv.forEach((element, i) => {
      const where: (string | number)[] =
        i < (s.command?.length ?? 0)
          ? ["server", "command", i]
          : ["server", "args", i - (s.command?.length ?? 0)];
      const inline = /^--api-key=(.+)$/.exec(element);
      const next = argv[i + 1];
      const separate = element === "--api-key" && next !== undefined && next !== "{api_key}";
      if ((inline && inline[1] !== "{api_key}") || separate) {
        // Point at the secret itself, not at the flag before it.
        if (separate) where[2] = (where[2] as number) + 1;
        this.fail(
          "a secret is written inline in the server command",
          where,
          "write `--api-key {api_key}` and set load.api_key_env",
        );
      }
      // vLLM's --hf-token takes an optional value; alone it uses the stored login.
      const hfInline = /^--hf-token=(.+)$/.exec(element);
      const hfSeparate = element === "--hf-token" && next !== undefined && !next.startsWith("-");
      if (hfInline || hfSeparate) {
        if (hfSeparate) where[2] = (where[2] as number) + 1;
        this.fail(
          "a Hugging Face token is written inline in the server command",
          where,
          `drop the value and set server.env HF_TOKEN: "\${HF_TOKEN}"`,
        );
      }
      const value = /^--[^=]+=(.*)$/.exec(element)?.[1] ?? element;
      if (SECRET_VALUE_RE.test(value)) {
        this.fail(
          "a value that looks like an API key or token is written inline",
          where,
          `pass secrets through environment variables (load.api_key_env, server.env NAME: "\${NAME}")`,
        );
      }
    });
    for (const [name, value] of Object.entries(s.env)) {
      const reference = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value);
      if ((SECRET_NAME_RE.test(name) || SECRET_VALUE_RE.test(value)) && !reference) {
        this.fail(
          `environment variable ${name} looks secret and is written inline`,
          ["server", "env", name],
          `write ${name}: "\${${name}}" to copy it from your environment`,
        );
      }
    }
    if (argv.some((a) => placeholdersIn(a).includes("api_key")) && !this.m.load.api_key_env) {
      this.fail(
        "the command uses {api_key} but load.api_key_env names no variable",
        ["load"],
        "add api_key_env: VLLM_API_KEY",
      );
    }
  }

  checkPrompts(): void {
    for (const [name, spec] of Object.entries(this.m.prompts)) {
      if ("file" in spec) {
        const path = resolve(this.file.baseDir, spec.file);
        if (!existsSync(path)) {
          this.fail(`prompt file not found: ${spec.file} (looked in ${this.file.baseDir})`, [
            "prompts",
            name,
            "file",
          ]);
        }
      } else {
        const t = spec.tokens;
        const lo = t.dist === "uniform" ? t.min : t.dist === "normal" ? t.min : undefined;
        const hi = t.dist === "uniform" ? t.max : t.dist === "normal" ? t.max : undefined;
        if (lo !== undefined && hi !== undefined && lo > hi) {
          this.fail(`min (${lo}) is larger than max (${hi})`, ["prompts", name, "tokens"]);
        }
      }
    }
    if (Object.keys(this.m.prompts).length === 0) {
      this.fail(
        "at least one prompt set is needed",
        ["prompts"],
        "e.g. short: {file: prompts_short.txt}",
      );
    }
  }

  /** Fill in gpus/tp/dp from each other; refuse contradictions. */
  derive(a: Assignment, where: (string | number)[]): Experiment["factors"] {
    let g = a.gpus as number | undefined;
    let t = a.tp as number | undefined;
    let d = a.dp as number | undefined;
    if (g === undefined) {
      t ??= 1;
      d ??= 1;
      g = t * d;
    } else if (t === undefined && d === undefined) {
      if (this.m.server.parallelism === "tp") [t, d] = [g, 1];
      else [t, d] = [1, g];
    } else if (t === undefined || d === undefined) {
      const known = (t ?? d) as number;
      if (g % known !== 0) {
        this.fail(
          `gpus = ${g} is not divisible by ${t === undefined ? "dp" : "tp"} = ${known}`,
          where,
          "tp × dp must equal gpus",
        );
      }
      if (t === undefined) t = g / known;
      else d = g / known;
    } else if (t * d !== g) {
      this.fail(
        `tp × dp = ${t} × ${d} = ${t * d}, but gpus = ${g}`,
        where,
        "tp × dp must equal gpus",
      );
    }
    return { ...a, gpus: g, tp: t as number, dp: d as number };
  }

  loadFor(f: Assignment, where: (string | number)[]): LoadConfig {
    const load: LoadConfig = { ...this.m.load };
    if (f.users !== undefined) load.users = f.users as number;
    if (f.rate !== undefined) load.rate = f.rate as number;
    if (f.burstiness !== undefined) load.burstiness = f.burstiness as number;
    if (f.max_tokens !== undefined) load.max_tokens = f.max_tokens as number;
    if (load.mode === "closed") {
      if (f.rate !== undefined)
        this.fail(
          "`rate` is an open-loop factor but load.mode is closed",
          [...where, "rate"],
          "set load.mode: open, or vary users",
        );
      if (load.users === undefined)
        this.fail("a closed-loop load needs users (load.users or a users factor)", ["load"]);
    } else {
      if (f.users !== undefined)
        this.fail(
          "`users` is a closed-loop factor but load.mode is open",
          [...where, "users"],
          "set load.mode: closed, or vary rate",
        );
      if (load.rate === undefined)
        this.fail("an open-loop load needs a rate (load.rate or a rate factor)", ["load"]);
    }
    return load;
  }

  promptSetFor(f: Assignment, where: (string | number)[]): Experiment["promptSet"] {
    const names = Object.keys(this.m.prompts);
    let name = f.prompt_set as string | undefined;
    if (name === undefined) {
      if (names.length !== 1) {
        this.fail(
          "several prompt sets are defined, so factors.prompt_set must say which to use",
          ["factors"],
          `one or more of: ${names.join(", ")}`,
        );
      }
      name = names[0] as string;
    }
    const spec = this.m.prompts[name];
    if (!spec) {
      const guess = names.find((n) => n.toLowerCase() === name.toLowerCase());
      this.fail(
        `unknown prompt set "${name}"`,
        [...where, "prompt_set"],
        guess ? `did you mean "${guess}"?` : `defined sets: ${names.join(", ")}`,
      );
    }
    return { name, spec };
  }

  commandTemplate(f: Experiment["factors"]): { template: string[]; fromFile: boolean } {
    const s = this.m.server;
    if (s.command) return { template: [...s.command, ...s.args], fromFile: true };
    if (s.kind === "external") return { template: [], fromFile: false };
    // The simulator's default command: vLLM's flags, one per server factor assigned.
    const template = [
      "vscale",
      "sim",
      "serve",
      "{model}",
      "--host",
      "{host}",
      "--port",
      "{port}",
      "--seed",
      "{seed}",
    ];
    for (const name of FACTOR_NAMES) {
      const flag = SERVER_FLAGS[name];
      if (!flag || f[name] === undefined) continue;
      if (typeof f[name] === "boolean") template.push(`{${name}:flag}`);
      else template.push(flag, `{${name}}`);
    }
    // No --api-key here: the runner passes the key as VLLM_API_KEY, which `ps` does not show.
    return { template: [...template, ...s.args], fromFile: false };
  }

  resolveServer(
    f: Experiment["factors"],
    where: (string | number)[],
  ): { argv: string[]; env: Record<string, string> } {
    const s = this.m.server;
    const { template, fromFile } = this.commandTemplate(f);
    const values: Record<string, string | number | boolean | undefined> = {
      ...f,
      model: s.model,
      host: s.host,
      port: s.port === "auto" ? "{port}" : s.port,
      seed: this.m.seed,
      api_key: "{api_key}",
    };
    const { argv, missing } = fillTemplate(template, values);
    const first = missing[0];
    if (first) {
      const inCommand = first.index < (s.command?.length ?? 0);
      const path = fromFile
        ? inCommand
          ? ["server", "command", first.index]
          : ["server", "args", first.index - (s.command?.length ?? 0)]
        : ["server", "args"];
      const known = [...new Set([...BUILTINS, ...this.factorOrder()])];
      this.fail(
        `placeholder {${first.name}} has no factor or built-in value`,
        path,
        `known here: ${known.join(", ")}`,
      );
    }
    if (fromFile) {
      const used = new Set(template.flatMap(placeholdersIn));
      for (const name of Object.keys(f) as FactorName[]) {
        if (!isServerFactor(name) || used.has(name)) continue;
        if (name === "tp" || name === "dp") continue; // derived from gpus unless the user wrote them
        this.fail(
          `factor ${name} varies but server.command never passes it`,
          [...where, name],
          `add "${SERVER_FLAGS[name]}", "{${name}}" to server.command`,
        );
      }
    }
    if (s.kind === "external") {
      for (const name of Object.keys(f) as FactorName[]) {
        if (isServerFactor(name) && name !== "tp" && name !== "dp") {
          this.fail(`factor ${name} configures a server, but kind: external starts none`, [
            ...where,
            name,
          ]);
        }
      }
    }
    const env = { ...s.env };
    if (s.kind === "vllm" && env.CUDA_VISIBLE_DEVICES === undefined) {
      env.CUDA_VISIBLE_DEVICES = Array.from({ length: f.gpus }, (_, i) => i).join(",");
    }
    return { argv, env };
  }

  experimentId(f: Experiment["factors"], repeat: number): string {
    const parts = [ID_CODES.gpus(f.gpus), ID_CODES.tp(f.tp)];
    if (f.dp !== 1) parts.push(ID_CODES.dp(f.dp));
    for (const name of FACTOR_NAMES) {
      if (name === "gpus" || name === "tp" || name === "dp") continue;
      const v = f[name];
      if (v !== undefined) parts.push(ID_CODES[name](v));
    }
    parts.push(`r${repeat}`);
    return safeId(parts);
  }

  groupId(f: Experiment["factors"]): string {
    const parts = [ID_CODES.gpus(f.gpus), ID_CODES.tp(f.tp)];
    if (f.dp !== 1) parts.push(ID_CODES.dp(f.dp));
    for (const name of FACTOR_NAMES) {
      if (name === "gpus" || name === "tp" || name === "dp" || !isServerFactor(name)) continue;
      const v = f[name];
      if (v !== undefined) parts.push(ID_CODES[name](v));
    }
    return safeId(parts);
  }

  assignments(): { assignment: Assignment; included: boolean; where: (string | number)[] }[] {
    const factors = this.m.factors as Record<string, unknown>;
    const order = this.factorOrder();
    const lists: [FactorName, FactorValue[]][] = order.map((n) => [n, asList(factors[n]) ?? []]);
    const assigned = new Set<string>(order);
    this.m.exclude.forEach((rule, i) => {
      for (const key of Object.keys(rule)) {
        if (!assigned.has(key) && !["gpus", "tp", "dp"].includes(key)) {
          this.fail(`exclude rule names ${key}, which is not a factor, so it never matches`, [
            "exclude",
            i,
            key,
          ]);
        }
      }
    });
    const out: { assignment: Assignment; included: boolean; where: (string | number)[] }[] = [];
    for (const a of cartesian(lists)) {
      const derived = this.derive(a, ["factors"]);
      if (this.m.exclude.some((rule) => matches(rule, derived))) continue;
      out.push({ assignment: a, included: false, where: ["factors"] });
    }
    this.m.include.forEach((rule, i) => {
      const fixed = Object.entries(rule).filter(([, v]) => v !== undefined) as [
        FactorName,
        unknown,
      ][];
      const fixedNames = new Set(fixed.map(([k]) => k));
      const ruleLists: [FactorName, FactorValue[]][] = [
        ...lists.filter(([n]) => !fixedNames.has(n)),
        ...fixed.map(([k, v]) => [k, asList(v) ?? []] as [FactorName, FactorValue[]]),
      ];
      for (const a of cartesian(ruleLists))
        out.push({ assignment: a, included: true, where: ["include", i] });
    });
    return out;
  }

  expand(): Plan {
    this.checkServer();
    this.checkPrompts();
    const experiments: Experiment[] = [];
    const groups = new Map<string, ServerGroup & { key: string }>();
    const seenIds = new Map<string, (string | number)[]>();
    for (const { assignment, included, where } of this.assignments()) {
      const factors = this.derive(assignment, where);
      const load = this.loadFor(factors, where);
      const promptSet = this.promptSetFor(factors, where);
      const { argv, env } = this.resolveServer(factors, where);
      const key = JSON.stringify({ argv, env });
      let group = [...groups.values()].find((g) => g.key === key);
      if (!group) {
        let id = this.groupId(factors);
        if (groups.has(id)) id = `${id}-${stableHash(key).toString(16).slice(0, 6)}`;
        group = {
          key,
          id,
          kind: this.m.server.kind,
          model: this.m.server.model,
          host: this.m.server.host,
          port: this.m.server.port,
          argv,
          env,
          url: this.m.server.url,
          gpus: factors.gpus,
          healthTimeoutMs: this.m.server.health_timeout,
          startEstimateMs: this.m.server.kind === "external" ? 0 : this.m.server.start_estimate,
          experimentIds: [],
        };
        groups.set(id, group);
      }
      for (let repeat = 1; repeat <= this.m.repeats; repeat++) {
        const id = this.experimentId(factors, repeat);
        const previous = seenIds.get(id);
        if (previous) {
          this.fail(
            `duplicate experiment id ${id}: the same factors appear twice`,
            where,
            `first produced by ${previous.join(".")}`,
          );
        }
        seenIds.set(id, where);
        group.experimentIds.push(id);
        experiments.push({
          id,
          repeat,
          seed: (stableHash(id) ^ this.m.seed) >>> 0,
          factors,
          included,
          groupId: group.id,
          load,
          promptSet,
        });
      }
    }
    if (experiments.length === 0) {
      this.fail("the matrix expands to no experiments (every combination is excluded)", [
        "exclude",
      ]);
    }
    // Run order: group by group (each server starts once), groups in first-seen order.
    const groupList = [...groups.values()].map(({ key: _key, ...g }) => g);
    const ordered = groupList.flatMap((g) => experiments.filter((e) => e.groupId === g.id));
    const loadMs = ordered.reduce((sum, e) => sum + e.load.warmup + e.load.duration, 0);
    const serverStartMs = groupList.reduce((sum, g) => sum + g.startEstimateMs, 0);
    return {
      file: this.file.path,
      baseDir: this.file.baseDir,
      matrix: this.m,
      campaign: this.m.campaign,
      experiments: ordered,
      groups: groupList,
      estimate: { loadMs, serverStartMs, totalMs: loadMs + serverStartMs },
    };
  }
}

export function expandMatrix(file: MatrixFile): Plan {
  return new Expander(file).expand();
}

/** Load-factor names, for displays that separate load from server factors. */
export function isLoadFactor(name: string): boolean {
  return (LOAD_FACTORS as readonly string[]).includes(name);
}

/**
 * The argv a server group really starts with: fills the run-time placeholders
 * (`{port}` when auto, `{api_key}` from the environment). The masked form
 * (for logs and experiment.json) replaces the key with `***`.
 */
export function runtimeArgv(
  group: ServerGroup,
  values: { port: number; apiKey?: string },
): { argv: string[]; masked: string[] } {
  const fill = (apiKey: string | undefined) =>
    group.argv.map((a) =>
      a.replaceAll("{port}", String(values.port)).replaceAll("{api_key}", apiKey ?? ""),
    );
  return {
    argv: fill(values.apiKey),
    masked: fill(values.apiKey === undefined ? undefined : "***"),
  };
}
