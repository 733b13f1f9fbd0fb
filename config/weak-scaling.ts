/**
 * Weak scaling (Gustafson): a load that grows with the GPU count, written
 * `users: {per_gpu: 16}` or `rate: {per_gpu: 4}` in the `load` section; each
 * experiment gets per_gpu × gpus. The fit then reads the throughput ratio
 * X(N)/X(1) as Gustafson's scaled speedup (analysis/fit/gustafson.ts).
 */
import { z } from "zod";
import type { LimitName } from "./limits.ts";
import { boundedNumber } from "./values.ts";

/** `{per_gpu: n}` for the setting whose limit is `limit`; the product with gpus is checked at expansion. */
export function perGpuSchema(limit: LimitName) {
  return z.strictObject({ per_gpu: boundedNumber(limit) });
}
export type PerGpu = { per_gpu: number };

export function isPerGpu(value: unknown): value is PerGpu {
  return typeof value === "object" && value !== null && "per_gpu" in value;
}

/** A value for `gpus` GPUs: per-GPU values multiplied (users rounded to a whole number, at least 1). */
export function resolvePerGpu(
  value: number | PerGpu | undefined,
  gpus: number,
  whole: boolean,
): number | undefined {
  if (value === undefined || typeof value === "number") return value;
  const v = value.per_gpu * gpus;
  return whole ? Math.max(1, Math.round(v)) : v;
}
