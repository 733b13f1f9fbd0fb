/**
 * Command-line values parsed by the matrix's own value schemas
 * (config/values.ts), so a flag has the bounds and the message of the matrix
 * setting it stands for: `--duration 600h` is refused as `duration: 600h` is,
 * and `--users 1e8` as `users: 100000000`.
 */
import { z } from "zod";
import { ConfigError } from "../common/errors.ts";
import { LIMITS, type LimitName, overLimitMessage } from "../config/limits.ts";
import { boundedNumber, duration } from "../config/values.ts";

function parsed<T>(schema: z.ZodType<T>, input: unknown, text: string, flag: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? `unexpected value "${text}"`;
  throw new ConfigError(message, { field: flag });
}

/** A number as a flag: empty or non-numeric text is refused before the schema sees NaN. */
function numeric(text: string, flag: string, what: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n))
    throw new ConfigError(`expected ${what}, got "${text}"`, { field: flag });
  return n;
}

/** A whole number ≥ `min` (default 1), within its row of config/limits.ts when given. */
export function intFlag(
  text: string,
  flag: string,
  opts: { min?: number; limit?: LimitName } = {},
): number {
  const min = opts.min ?? 1;
  const n = numeric(text, flag, `a whole number ≥ ${min}`);
  const error = `expected a whole number ≥ ${min}, got "${text}"`;
  const schema = z.int({ error }).min(min, { error });
  if (opts.limit === undefined) return parsed(schema, n, text, flag);
  const limit = opts.limit;
  return parsed(
    schema.max(LIMITS[limit].max, { error: () => overLimitMessage(limit, text) }),
    n,
    text,
    flag,
  );
}

/** A number > 0 within `limit`. */
export function positiveFlag(text: string, flag: string, limit: LimitName): number {
  const n = numeric(text, flag, "a number > 0");
  return parsed(boundedNumber(limit), n, text, flag);
}

/** A number in [min, max]. */
export function rangeFlag(text: string, flag: string, min: number, max: number): number {
  const n = numeric(text, flag, `a number from ${min} to ${max}`);
  const error = `expected a number from ${min} to ${max}, got "${text}"`;
  return parsed(z.number().min(min, { error }).max(max, { error }), n, text, flag);
}

/** A duration (`30s`, `3m`), > 0 unless `allowZero`, at most config/limits.ts MAX_DURATION_MS. */
export function durationFlag(text: string, flag: string, opts: { allowZero?: boolean } = {}) {
  return parsed(duration(opts), text, text, flag);
}
