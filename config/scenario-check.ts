/**
 * `load.scenario` (config/scenarios.ts) against the rest of an experiment's
 * load: a controlled scenario is a closed pattern of batch_size requests, so
 * what would reshape that batch (users, think time, an open loop) is refused
 * where it is written, as are scenario settings a free-running load would
 * ignore. Checked per experiment, since scenario, B and C are also factors.
 */
import type { Assignment } from "./experiment.ts";
import type { MatrixFile } from "./matrix-file.ts";
import type { Fail, PathKey } from "./problem.ts";
import { type ControlledScenario, DECODE_PROMPT_TOKENS } from "./scenarios.ts";
import type { LoadConfig } from "./schema.ts";

/** Settings and factors that only a controlled scenario reads. */
const SCENARIO_KEYS = ["batch_size", "prompt_tokens"] as const;
/** Closed-loop settings that would break a scenario's fixed batch. */
const BATCH_BREAKERS = ["users", "spawn_rate", "think_time", "turns"] as const;

/** Where a key was written: the factor (or include rule) first, else the load section; null if nowhere. */
function writtenAt(
  file: MatrixFile,
  f: Assignment,
  where: PathKey[],
  key: string,
): PathKey[] | null {
  if (f[key as keyof Assignment] !== undefined) return [...where, key];
  const written = (file.raw.load ?? {}) as Record<string, unknown>;
  return written[key] === undefined ? null : ["load", key];
}

/** Fills in decode-only's default prompt length; fails on any conflict. */
export function checkScenario(
  file: MatrixFile,
  load: LoadConfig,
  f: Assignment,
  where: PathKey[],
  fail: Fail,
): LoadConfig {
  const scenario = load.scenario;
  if (scenario === "mixed") {
    for (const key of SCENARIO_KEYS) {
      const path = writtenAt(file, f, where, key);
      if (path === null) continue;
      fail({
        message: `\`${key}\` is a scenario setting but load.scenario is mixed, so it would be ignored`,
        path,
        hint: "remove it, or set load.scenario (or a scenario factor) to prefill-only or decode-only",
      });
    }
    return load;
  }
  const scenarioPath = writtenAt(file, f, where, "scenario") ?? ["load"];
  if (load.mode === "open") {
    fail({
      message: `load.scenario ${scenario} is a closed pattern of batch_size requests, but load.mode is open`,
      path: ["load", "mode"],
      hint: "remove load.mode: open (and rate, arrival, burstiness, max_concurrency)",
    });
  }
  for (const key of BATCH_BREAKERS) {
    const path = writtenAt(file, f, where, key);
    if (path === null) continue;
    fail({
      message: `\`${key}\` would reshape the batch of load.scenario ${scenario}, which keeps exactly batch_size requests together`,
      path,
      hint: key === "users" ? "remove users; vary batch_size instead" : `remove ${key}`,
    });
  }
  const promptSetPath = writtenAt(file, f, where, "prompt_set");
  if (promptSetPath !== null) {
    fail({
      message: `load.scenario ${scenario} makes its own prompt set of prompt_tokens tokens, so prompt_set would be ignored`,
      path: promptSetPath,
      hint: "remove prompt_set; vary prompt_tokens instead",
    });
  }
  const need = (key: "batch_size" | "prompt_tokens") =>
    fail({
      message: `load.scenario ${scenario} needs ${key} (load.${key} or a ${key} factor)`,
      path: scenarioPath,
    });
  if (load.batch_size === undefined) need("batch_size");
  if (scenario === "prefill-only") {
    checkPrefillOnly(file, load, f, where, fail);
    if (load.prompt_tokens === undefined) need("prompt_tokens");
  }
  return { ...load, prompt_tokens: load.prompt_tokens ?? DECODE_PROMPT_TOKENS };
}

/** What prefill-only's waves need beyond the batch: one output token, one place, no prefix cache. */
function checkPrefillOnly(
  file: MatrixFile,
  load: LoadConfig,
  f: Assignment,
  where: PathKey[],
  fail: Fail,
): void {
  const scenario: ControlledScenario = "prefill-only";
  // load.max_tokens may stand (decode-only experiments of the same matrix read it); a
  // max_tokens factor would make prefill-only experiments that differ in nothing.
  if (f.max_tokens !== undefined) {
    fail({
      message: `load.scenario ${scenario} sends max_tokens: 1, so a max_tokens factor would only repeat it`,
      path: [...where, "max_tokens"],
      hint: "exclude the max_tokens factor from prefill-only experiments",
    });
  }
  if (typeof load.workers === "number" && load.workers > 1) {
    fail({
      message: `load.scenario ${scenario} runs on one load worker: its barrier waits for every request of a wave in one place`,
      path: ["load", "workers"],
      hint: "remove workers, or set workers: 1",
    });
  }
  if (load.segments > 1) {
    fail({
      message: `load.scenario ${scenario} cannot be split into segments: its barrier waits for every request of a wave`,
      path: ["load", "segments"],
    });
  }
  // Its waves repeat the same B prompts: with a prefix cache, every wave after the first
  // would be cache hits, not prefills. An external server's settings are not ours to see.
  if (file.matrix.server.kind !== "external" && f.enable_prefix_caching !== false) {
    fail({
      message: `load.scenario ${scenario} repeats its prompts wave after wave, so with prefix caching on later waves would hit the cache instead of prefilling`,
      path:
        f.enable_prefix_caching === undefined ? ["factors"] : [...where, "enable_prefix_caching"],
      hint: "add the factor enable_prefix_caching: false",
    });
  }
}
