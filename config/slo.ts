/**
 * The matrix's `slo` section: latency objectives as summary columns and
 * limits, e.g. `{ttft_ms_p99: 500, tpot_ms_p99: 50}`. Capacity (analysis/
 * capacity/) is the highest offered rate whose measured figures meet every
 * one; goodput counts requests whose own TTFT and TPOT meet the ttft/tpot limits.
 */
import { z } from "zod";
import { positiveNumber } from "./values.ts";

/** Metrics and statistics an objective may name: the summary's latency columns (formats/agg-tables.ts). */
export const SLO_METRICS = ["ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"] as const;
export const SLO_STATS = ["mean", "p50", "p90", "p95", "p99"] as const;
const SLO_KEY = new RegExp(`^(${SLO_METRICS.join("|")})_(${SLO_STATS.join("|")})$`);

export const SloSchema = z.record(
  z.string().regex(SLO_KEY, {
    error: `expected <metric>_<stat> with metric ${SLO_METRICS.join(", ")} and stat ${SLO_STATS.join(", ")} (e.g. ttft_ms_p99)`,
  }),
  positiveNumber,
);
export type SloSpec = z.output<typeof SloSchema>;

/**
 * Per-request thresholds for goodput (DistServe's definition, as `vllm bench
 * serve --goodput`): the tightest TTFT and TPOT limits of the objectives, or
 * undefined when the SLO names none of that metric.
 */
export function goodputThresholds(slo: SloSpec): { ttftMs?: number; tpotMs?: number } {
  const tightest = (metric: string) => {
    const limits = Object.entries(slo)
      .filter(([k]) => k.startsWith(`${metric}_`))
      .map(([, v]) => v);
    return limits.length > 0 ? Math.min(...limits) : undefined;
  };
  const ttftMs = tightest("ttft_ms");
  const tpotMs = tightest("tpot_ms");
  return {
    ...(ttftMs !== undefined ? { ttftMs } : {}),
    ...(tpotMs !== undefined ? { tpotMs } : {}),
  };
}

/** `ttft_ms_p99=500,tpot_ms_p99=50` (the CLI's `--slo`) → an SLO, or a message saying what is wrong. */
export function parseSloFlag(text: string): SloSpec | string {
  const out: Record<string, number> = {};
  for (const part of text.split(",")) {
    const [key, value] = part.split("=").map((s) => s.trim());
    if (!key || value === undefined)
      return `expected name=ms pairs such as ttft_ms_p99=500, got "${part}"`;
    out[key] = Number(value);
  }
  const parsed = SloSchema.safeParse(out);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`;
  }
  return parsed.data;
}
