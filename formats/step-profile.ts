/**
 * `profile.json` written by `vscale fit-steps` and read by
 * `vscale sim serve --sim-profile FILE`: a step-time model fitted from
 * measured steps (seed 000_3eacb4ee61cd308d's goal), with each coefficient's
 * confidence interval and the error on held-out rows.
 *
 * Execute time is a roofline over linear terms: a step cannot run faster than
 * its launch floor (per-step constant of the shard shape, plus per decoding
 * sequence and per attended context token, both shared over the TP GPUs), and
 * a large prefill is compute-bound (per prefill token that does not shrink
 * with TP — embedding, LM head — plus its per-GPU share):
 *   execute = max(floor, compute) when both parts are fitted, else the one fitted.
 * Schedule and update get their own terms (per step, per scheduled request),
 * which do not shrink with TP. All times are ms per step.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { DataError } from "../common/errors.ts";

export const STEP_PROFILE_VERSION = 1;

/**
 * What a term multiplies. `step`: 1 per step (with `tp`: only at that shard
 * size); `prefill_token`: prompt tokens in the step; `decode_seq`: sequences
 * decoding one token; `context_token`: KV tokens the scheduled sequences
 * attend to; `request`: scheduled requests. `_per_gpu`: divided by TP.
 */
export const StepTermName = z.enum([
  "step",
  "prefill_token",
  "prefill_token_per_gpu",
  "decode_seq_per_gpu",
  "context_token_per_gpu",
  "request",
]);
export type StepTermName = z.infer<typeof StepTermName>;

export const StepTermSchema = z.strictObject({
  name: StepTermName,
  /** Only for `step`: the shard size this launch floor was measured at. */
  tp: z.number().int().positive().optional(),
  /** ms per unit. */
  coef: z.number(),
  std_error: z.number().nullable(),
  /** 95% confidence interval (t distribution on the fit's degrees of freedom). */
  ci95: z.tuple([z.number(), z.number()]).nullable(),
});
export type StepTerm = z.infer<typeof StepTermSchema>;

export const LinearPartSchema = z.strictObject({
  terms: z.array(StepTermSchema).min(1),
  /** Rows this part was fitted on. */
  rows: z.number().int().nonnegative(),
});
export type LinearPart = z.infer<typeof LinearPartSchema>;

export const HeldOutSchema = z.strictObject({
  folds: z.number().int().min(2),
  rows: z.number().int().positive(),
  /** Mean absolute percentage error over held-out rows, %. */
  mape_pct: z.number(),
  /** Mean signed percentage error (prediction − measured), %. */
  bias_pct: z.number(),
});

export const StepProfileSchema = z.strictObject({
  schema_version: z.literal(STEP_PROFILE_VERSION),
  kind: z.literal("vscale-step-profile"),
  /** A built-in simulator profile giving memory and KV figures (the fit only gives time). */
  base_profile: z.string().min(1),
  source: z.strictObject({
    files: z.array(
      z.strictObject({
        name: z.string(),
        format: z.enum(["seed000-steps", "profilemate-forward", "grid"]),
        rows: z.number().int().nonnegative(),
      }),
    ),
    /** Per-layer input times were multiplied by this many layers. */
    layers: z.number().int().positive().nullable(),
  }),
  /** TP sizes in the data: the floor is known only at these. */
  tp_levels: z.array(z.number().int().positive()).min(1),
  execute: z.strictObject({
    floor: LinearPartSchema.nullable(),
    compute: LinearPartSchema.nullable(),
  }),
  schedule: LinearPartSchema.nullable(),
  update: LinearPartSchema.nullable(),
  /** Execute-time error on rows left out of the fit (k-fold). */
  held_out: HeldOutSchema.nullable(),
});
export type StepProfile = z.infer<typeof StepProfileSchema>;

/** Read and check a profile file; a bad one is a DataError naming the field. */
export function readStepProfile(file: string): StepProfile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new DataError(
      `cannot read a step profile: ${error instanceof Error ? error.message : String(error)}`,
      { file },
    );
  }
  const parsed = StepProfileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError(issue?.message ?? "not a step profile", {
      file,
      field: issue?.path.join(".") ?? "",
      hint: "write it with vscale fit-steps",
    });
  }
  return parsed.data;
}
