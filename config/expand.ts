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
import type { Assignment, Experiment, Plan, ServerGroup } from "./experiment.ts";
import { FACTOR_NAMES, type FactorName, type FactorValue, LOAD_FACTORS } from "./factors.ts";
import { experimentId, experimentSeed, groupId, groupIdSuffix } from "./ids.ts";
import { LIMITS, overLimitMessage } from "./limits.ts";
import { checkLoadMode, checkModeFactors } from "./load-mode.ts";
import { errorAt, type MatrixFile } from "./matrix-file.ts";
import type { Fail, PathKey } from "./problem.ts";
import { checkProfileSlice } from "./profile-slice.ts";
import { checkScenario } from "./scenario-check.ts";
import { scenarioPromptSet } from "./scenarios.ts";
import type { LoadConfig, Matrix, TokenDist } from "./schema.ts";
import { serverSecret } from "./secrets.ts";
import { checkServerSection, resolveServer } from "./server-command.ts";
import { sweepSteps } from "./sweep.ts";
import { checkSweep, sweepStepLoad } from "./sweep-plan.ts";
import { resolvePerGpu } from "./weak-scaling.ts";

export type { Assignment, Experiment, Plan, ServerGroup } from "./experiment.ts";
export { runtimeArgv } from "./server-command.ts";

/**
 * The most experiments one matrix may expand to (repeats included), and the
 * most factor combinations it may cross before exclude rules. Far above any
 * campaign one can run (10,000 experiments of a minute are a week), and low
 * enough that a typo such as `repeats: 100000000` is refused in milliseconds
 * instead of exhausting memory.
 */
export const MAX_EXPERIMENTS = 10_000;
export const MAX_COMBINATIONS = 100_000;

type Where = PathKey[];

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

function crossSize(lists: [FactorName, FactorValue[]][]): number {
  return lists.reduce((n, [, values]) => n * values.length, 1);
}

/** Does `assignment` match a rule (every key equal, a list meaning any of)? */
function matches(rule: Assignment | Record<string, unknown>, assignment: Assignment): boolean {
  return Object.entries(rule).every(([key, want]) => {
    if (want === undefined) return true;
    const have = assignment[key as FactorName];
    return Array.isArray(want) ? want.includes(have) : want === have;
  });
}

function tooMany(count: number, what: string, limit: number, where: Where, fail: Fail): never {
  return fail({
    message: `the matrix expands to ${count.toLocaleString("en-US")} ${what}, more than the limit of ${limit.toLocaleString("en-US")}`,
    path: where,
    hint: "lower repeats or the factor lists, or split the matrix into several campaigns",
  });
}

/** Factor names in the order the user wrote them (the cross-product's nesting order). */
function factorOrder(file: MatrixFile): FactorName[] {
  const written = Object.keys((file.raw.factors as Record<string, unknown> | undefined) ?? {});
  return written.filter((k): k is FactorName => (FACTOR_NAMES as string[]).includes(k));
}

function checkPrompts(file: MatrixFile, fail: Fail): void {
  const m = file.matrix;
  for (const [name, spec] of Object.entries(m.prompts)) {
    if ("file" in spec) {
      if (!existsSync(resolve(file.baseDir, spec.file))) {
        fail({
          message: `prompt file not found: ${spec.file} (looked in ${file.baseDir})`,
          path: ["prompts", name, "file"],
        });
      }
      continue;
    }
    for (const key of ["tokens", "output_tokens"] as const) {
      const t = spec[key];
      if (t === undefined) continue;
      const path = ["prompts", name, key];
      const lo = t.dist === "fixed" ? undefined : t.min;
      const hi = t.dist === "fixed" ? undefined : t.max;
      if (lo !== undefined && hi !== undefined && lo > hi) {
        fail({ message: `min (${lo}) is larger than max (${hi})`, path });
      }
      // Shared prefixes (load/workload/prompts.ts) need a length; groups alone would be ignored.
      if (t.groups !== undefined && t.prefix === undefined) {
        fail({
          message: "groups without prefix: the shared prefixes have no length",
          path: [...path, "groups"],
          hint: "add prefix: <tokens>, or remove groups",
        });
      }
      if (key === "output_tokens" && t.prefix !== undefined) {
        fail({
          message: "prefix applies to prompts, not to output lengths",
          path: [...path, "prefix"],
        });
      }
    }
    // The whole set is made as text before the window opens (about chars_per_token bytes a token).
    const longest = longestTokens(spec.tokens) + (spec.tokens.prefix ?? 0);
    if (spec.count * longest > LIMITS.prompt_set_tokens.max) {
      fail({
        message: overLimitMessage("prompt_set_tokens", spec.count * longest),
        path: ["prompts", name, "count"],
        hint: `${spec.count.toLocaleString("en-US")} prompts of up to ${longest.toLocaleString("en-US")} tokens`,
      });
    }
  }
}

/** The longest prompt a length distribution can draw (normal without max: mean + 6 std). */
function longestTokens(t: TokenDist): number {
  if (t.dist === "fixed") return t.mean;
  if (t.dist === "uniform") return t.max;
  return t.max ?? Math.ceil(t.mean + 6 * t.std);
}

/** Settings that scale with gpus (`{per_gpu: n}`) are checked against their limits once multiplied. */
function checkResolvedLimits(load: LoadConfig, where: Where, fail: Fail): void {
  if (load.users !== undefined && load.users > LIMITS.users.max)
    fail({ message: `users: ${overLimitMessage("users", load.users)}`, path: where });
  if (load.rate !== undefined && load.rate > LIMITS.rate.max)
    fail({ message: `rate: ${overLimitMessage("rate", load.rate)}`, path: where });
}

/**
 * Fill in gpus/tp/dp from each other; refuse contradictions. A pipeline size
 * (pp, 1 unless given) multiplies in: gpus = tp × pp × dp, as vLLM's world size.
 */
function derive(m: Matrix, a: Assignment, where: Where, fail: Fail): Experiment["factors"] {
  const p = (a.pp as number | undefined) ?? 1;
  let g = a.gpus as number | undefined;
  let t = a.tp as number | undefined;
  let d = a.dp as number | undefined;
  const hint = p === 1 ? "tp × dp must equal gpus" : "tp × pp × dp must equal gpus";
  if (g !== undefined && g % p !== 0) {
    fail({ message: `gpus = ${g} is not divisible by pp = ${p}`, path: where, hint });
  }
  // The GPUs left for tp × dp once the pipeline stages are placed.
  const lanes = g === undefined ? undefined : g / p;
  if (lanes === undefined) {
    t ??= 1;
    d ??= 1;
    g = t * p * d;
  } else if (t === undefined && d === undefined) {
    if (m.server.parallelism === "tp") [t, d] = [lanes, 1];
    else [t, d] = [1, lanes];
  } else if (t === undefined || d === undefined) {
    const known = (t ?? d) as number;
    if (lanes % known !== 0) {
      const name = t === undefined ? "dp" : "tp";
      const what = p === 1 ? `gpus = ${g}` : `gpus / pp = ${lanes}`;
      fail({ message: `${what} is not divisible by ${name} = ${known}`, path: where, hint });
    }
    if (t === undefined) t = lanes / known;
    else d = lanes / known;
  } else if (t * p * d !== g) {
    const product = p === 1 ? `tp × dp = ${t} × ${d}` : `tp × pp × dp = ${t} × ${p} × ${d}`;
    fail({ message: `${product} = ${t * p * d}, but gpus = ${g}`, path: where, hint });
  }
  return { ...a, gpus: g as number, tp: t as number, dp: d as number };
}

function loadFor(file: MatrixFile, f: Experiment["factors"], where: Where, fail: Fail): LoadConfig {
  const m = file.matrix;
  // Weak scaling: `{per_gpu: n}` becomes n × gpus here, once per experiment.
  const section: LoadConfig = {
    ...m.load,
    users: resolvePerGpu(m.load.users, f.gpus, true),
    rate: resolvePerGpu(m.load.rate, f.gpus, false),
  };
  if (m.load.sweep && f.sweep_step !== undefined)
    return checkScenario(file, sweepStepLoad(section, f.sweep_step as number), f, where, fail);
  const load: LoadConfig = section;
  if (f.users !== undefined) load.users = f.users as number;
  if (f.rate !== undefined) load.rate = f.rate as number;
  if (f.burstiness !== undefined) load.burstiness = f.burstiness as number;
  if (f.max_tokens !== undefined) load.max_tokens = f.max_tokens as number;
  if (f.scenario !== undefined) load.scenario = f.scenario as LoadConfig["scenario"];
  if (f.batch_size !== undefined) load.batch_size = f.batch_size as number;
  if (f.prompt_tokens !== undefined) load.prompt_tokens = f.prompt_tokens as number;
  checkModeFactors(load.mode, f, where, fail);
  checkResolvedLimits(load, where, fail);
  const checked = checkScenario(file, load, f, where, fail);
  if (checked.scenario !== "mixed") return checked;
  if (load.mode === "closed" && load.users === undefined)
    fail({
      message: "a closed-loop load needs users (load.users or a users factor)",
      path: ["load"],
    });
  if (load.mode === "open" && load.rate === undefined)
    fail({
      message: "an open-loop load needs a rate (load.rate or a rate factor)",
      path: ["load"],
    });
  return load;
}

function promptSetFor(
  m: Matrix,
  f: Assignment,
  load: LoadConfig,
  where: Where,
  fail: Fail,
): Experiment["promptSet"] {
  // A scenario's prompts are C tokens each, made for it (config/scenarios.ts).
  if (load.scenario !== "mixed") return scenarioPromptSet(load.prompt_tokens as number);
  const names = Object.keys(m.prompts);
  let name = f.prompt_set as string | undefined;
  if (name === undefined && names.length === 0) {
    return fail({
      message: "at least one prompt set is needed",
      path: ["prompts"],
      hint: "e.g. short: {file: prompts_short.txt}",
    });
  }
  if (name === undefined) {
    if (names.length !== 1) {
      fail({
        message: "several prompt sets are defined, so factors.prompt_set must say which to use",
        path: ["factors"],
        hint: `one or more of: ${names.join(", ")}`,
      });
    }
    name = names[0] as string;
  }
  const spec = m.prompts[name];
  if (!spec) {
    const guess = names.find((n) => n.toLowerCase() === name.toLowerCase());
    return fail({
      message: `unknown prompt set "${name}"`,
      path: [...where, "prompt_set"],
      hint: guess ? `did you mean "${guess}"?` : `defined sets: ${names.join(", ")}`,
    });
  }
  return { name, spec };
}

interface Source {
  assignment: Assignment;
  included: boolean;
  where: Where;
}

function assignments(file: MatrixFile, fail: Fail): Source[] {
  const m = file.matrix;
  const factors = m.factors as Record<string, unknown>;
  const order = factorOrder(file);
  const lists: [FactorName, FactorValue[]][] = order.map((n) => [n, asList(factors[n]) ?? []]);
  // A sweep is its steps crossed with everything else (config/sweep.ts).
  if (m.load.sweep) lists.push(["sweep_step", sweepSteps(m.load.sweep)]);
  const assigned = new Set<string>(order);
  m.exclude.forEach((rule, i) => {
    for (const key of Object.keys(rule)) {
      if (!assigned.has(key) && !["gpus", "tp", "dp"].includes(key)) {
        fail({
          message: `exclude rule names ${key}, which is not a factor, so it never matches`,
          path: ["exclude", i, key],
        });
      }
    }
  });
  const includeLists = m.include.map((rule) => {
    const fixed = Object.entries(rule).filter(([, v]) => v !== undefined) as [
      FactorName,
      unknown,
    ][];
    const fixedNames = new Set(fixed.map(([k]) => k));
    return [
      ...lists.filter(([n]) => !fixedNames.has(n)),
      ...fixed.map(([k, v]) => [k, asList(v) ?? []] as [FactorName, FactorValue[]]),
    ];
  });
  // Count before building: the cross-product of a few long lists does not fit in memory.
  const combinations = crossSize(lists) + includeLists.reduce((n, l) => n + crossSize(l), 0);
  if (combinations > MAX_COMBINATIONS) {
    tooMany(combinations, "factor combinations", MAX_COMBINATIONS, ["factors"], fail);
  }
  const out: Source[] = [];
  for (const a of cartesian(lists)) {
    if (m.exclude.some((rule) => matches(rule, derive(m, a, ["factors"], fail)))) continue;
    out.push({ assignment: a, included: false, where: ["factors"] });
  }
  includeLists.forEach((ruleLists, i) => {
    for (const a of cartesian(ruleLists))
      out.push({ assignment: a, included: true, where: ["include", i] });
  });
  return out;
}

export function expandMatrix(file: MatrixFile): Plan {
  const m = file.matrix;
  const fail: Fail = (problem) => {
    throw errorAt(file, problem);
  };
  checkServerSection(m, fail);
  const secret = serverSecret(m.server, m.load);
  if (secret) fail(secret);
  checkLoadMode(file, fail);
  checkSweep(file, fail);
  checkProfileSlice(file, fail);
  checkPrompts(file, fail);
  const sources = assignments(file, fail);
  if (sources.length * m.repeats > MAX_EXPERIMENTS) {
    const where = file.raw.repeats !== undefined ? ["repeats"] : ["factors"];
    tooMany(sources.length * m.repeats, "experiments", MAX_EXPERIMENTS, where, fail);
  }
  const order = factorOrder(file);
  const experiments: Experiment[] = [];
  const groups = new Map<string, ServerGroup & { key: string }>();
  const seenIds = new Map<string, Where>();
  for (const { assignment, included, where } of sources) {
    const derived = derive(m, assignment, where, fail);
    const load = loadFor(file, derived, where, fail);
    const promptSet = promptSetFor(m, derived, load, where, fail);
    // A scenario's B and C are factors whether written as factors or as load settings: ids and
    // the summary's scenario columns name them.
    const factors =
      load.scenario === "mixed"
        ? derived
        : {
            ...derived,
            scenario: load.scenario,
            batch_size: load.batch_size as number,
            prompt_tokens: load.prompt_tokens as number,
          };
    const { argv, env } = resolveServer(m, factors, order, where, fail);
    const key = JSON.stringify({ argv, env });
    let group = [...groups.values()].find((g) => g.key === key);
    if (!group) {
      let id = groupId(factors);
      if (groups.has(id)) id = `${id}-${groupIdSuffix(key)}`;
      group = {
        key,
        id,
        kind: m.server.kind,
        model: m.server.model,
        host: m.server.host,
        port: m.server.port,
        argv,
        env,
        url: m.server.url,
        gpus: factors.gpus,
        healthTimeoutMs: m.server.health_timeout,
        startEstimateMs: m.server.kind === "external" ? 0 : m.server.start_estimate,
        experimentIds: [],
      };
      groups.set(id, group);
    }
    for (let repeat = 1; repeat <= m.repeats; repeat++) {
      const id = experimentId(factors, repeat);
      const previous = seenIds.get(id);
      if (previous) {
        fail({
          message: `duplicate experiment id ${id}: the same factors appear twice`,
          path: where,
          hint: `first produced by ${previous.join(".")}`,
        });
      }
      seenIds.set(id, where);
      group.experimentIds.push(id);
      const seed = experimentSeed(id, m.seed);
      experiments.push({ id, repeat, seed, factors, included, groupId: group.id, load, promptSet });
    }
  }
  if (experiments.length === 0) {
    fail({
      message: "the matrix expands to no experiments (every combination is excluded)",
      path: ["exclude"],
    });
  }
  // Run order: group by group (each server starts once), groups in first-seen order.
  const groupList = [...groups.values()].map(({ key: _key, ...g }) => g);
  const byGroup = new Map<string, Experiment[]>();
  for (const e of experiments) byGroup.set(e.groupId, [...(byGroup.get(e.groupId) ?? []), e]);
  const ordered = groupList.flatMap((g) => byGroup.get(g.id) ?? []);
  const loadMs = ordered.reduce((sum, e) => sum + e.load.warmup + e.load.duration, 0);
  const serverStartMs = groupList.reduce((sum, g) => sum + g.startEstimateMs, 0);
  return {
    file: file.path,
    baseDir: file.baseDir,
    matrix: m,
    campaign: m.campaign,
    experiments: ordered,
    groups: groupList,
    estimate: { loadMs, serverStartMs, totalMs: loadMs + serverStartMs },
  };
}

/** Load-factor names, for displays that separate load from server factors. */
export function isLoadFactor(name: string): boolean {
  return (LOAD_FACTORS as readonly string[]).includes(name);
}
