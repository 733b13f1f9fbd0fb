/**
 * The value schemas the matrix sections and the factors table share: whole
 * numbers, positive numbers, durations and environment variable names.
 */
import { z } from "zod";
import { formatDurationMs, parseDurationMs } from "./duration.ts";
import { LIMITS, type LimitName, MAX_DURATION_MS, overLimitMessage } from "./limits.ts";

export { MAX_DURATION_MS };

/** `30s`, `3m`, `1m30s`, `500ms` → milliseconds (> 0 unless `allowZero`, ≤ MAX_DURATION_MS). */
export function duration(opts: { allowZero?: boolean } = {}) {
  return z.string({ error: "expected a duration such as 30s or 3m" }).transform((text, ctx) => {
    const trimmed = text.trim();
    if (trimmed.startsWith("-")) {
      ctx.addIssue({ code: "custom", message: `expected a positive duration, got "${text}"` });
      return z.NEVER;
    }
    const ms = parseDurationMs(trimmed);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration such as 30s, 3m or 500ms, got "${text}"`,
      });
      return z.NEVER;
    }
    if (ms === 0 && !opts.allowZero) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration greater than zero, got "${text}"`,
      });
      return z.NEVER;
    }
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration of at most ${formatDurationMs(MAX_DURATION_MS)} (the limit for one setting), got "${text}"`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

export const positiveInt = z
  .int({ error: "expected a whole number" })
  .positive({ error: "expected a whole number > 0" });

export const positiveNumber = z
  .number({ error: "expected a number" })
  .positive({ error: "expected a number > 0" });

/** A whole number ≥ 1 within its row of config/limits.ts. */
export function boundedInt(limit: LimitName) {
  return positiveInt.max(LIMITS[limit].max, {
    error: (issue) => overLimitMessage(limit, Number(issue.input)),
  });
}

/** A number > 0 within its row of config/limits.ts. */
export function boundedNumber(limit: LimitName) {
  return positiveNumber.max(LIMITS[limit].max, {
    error: (issue) => overLimitMessage(limit, Number(issue.input)),
  });
}

/** Environment variable names only: the value is read at run time, never stored. */
export const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected the NAME of an environment variable" });
