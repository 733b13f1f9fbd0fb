/**
 * A fitted step profile (formats/step-profile.ts) evaluated on one step's
 * batch: the one definition of each term's value, used by the engine's cost
 * model and by `vscale fit-steps` when it builds its design matrix and scores
 * held-out rows.
 */
import type { LinearPart, StepProfile, StepTermName } from "../../formats/step-profile.ts";

/** What a fitted term can multiply: one step's batch at one shard size. */
export interface StepFeatures {
  prefillTokens: number;
  decodeSeqs: number;
  contextTokens: number;
  /** Requests scheduled in the step. */
  requests: number;
  tp: number;
}

export function termValue(term: { name: StepTermName; tp?: number | undefined }, x: StepFeatures) {
  switch (term.name) {
    case "step":
      return term.tp === undefined || term.tp === x.tp ? 1 : 0;
    case "prefill_token":
      return x.prefillTokens;
    case "prefill_token_per_gpu":
      return x.prefillTokens / x.tp;
    case "decode_seq_per_gpu":
      return x.decodeSeqs / x.tp;
    case "context_token_per_gpu":
      return x.contextTokens / x.tp;
    case "request":
      return x.requests;
  }
}

/** A linear part's value, ms. */
export function partMs(part: LinearPart, x: StepFeatures): number {
  let ms = 0;
  for (const term of part.terms) ms += term.coef * termValue(term, x);
  return ms;
}

/** Execute time: the roofline max(floor, compute), or the one part fitted. */
export function fittedExecuteMs(profile: Pick<StepProfile, "execute">, x: StepFeatures): number {
  const { floor, compute } = profile.execute;
  const f = floor ? partMs(floor, x) : Number.NEGATIVE_INFINITY;
  const c = compute ? partMs(compute, x) : Number.NEGATIVE_INFINITY;
  return Math.max(0, f, c);
}
