/**
 * The controlled batching scenarios' names and the prompt set each gets
 * (issue 14 §1; what each one sends: load/workload/scenarios.ts). No zod and
 * no Node APIs: the workload core, and so k6, imports this file too.
 */

export const SCENARIOS = ["mixed", "prefill-only", "decode-only"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/** A controlled scenario (not `mixed`, today's free-running load). */
export type ControlledScenario = Exclude<ScenarioName, "mixed">;

/** decode-only's prompt length when `prompt_tokens` is not given: short, so its prefill steps stay rare and cheap. */
export const DECODE_PROMPT_TOKENS = 16;

/**
 * Distinct prompts in a scenario's synthetic set. Request `u<user>-<k>` takes
 * prompt `user mod count`, so a batch of up to this many requests never holds
 * the same prompt twice; later waves repeat them, which is why prefill-only
 * needs the server's prefix cache off (config/scenario-check.ts).
 */
export const SCENARIO_PROMPT_COUNT = 64;

/**
 * C → the experiment's prompt set: a synthetic set of fixed-length prompts of
 * C tokens, prepared (and calibrated with the server's `/tokenize`) exactly as
 * a `prompts:` entry `{tokens: {dist: fixed, mean: C}}` is. The name has a
 * character prompt-set names cannot have, so it never meets a user's set.
 */
export function scenarioPromptSet(promptTokens: number) {
  return {
    name: `scenario:c${promptTokens}`,
    spec: {
      tokens: { dist: "fixed" as const, mean: promptTokens },
      count: SCENARIO_PROMPT_COUNT,
      chars_per_token: 4,
    },
  };
}
