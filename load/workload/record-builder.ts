/**
 * Turns one request's observations into the per-request record
 * (`formats/request-record.ts`). Shared by every engine so records agree field by field.
 */
import type { RequestRecord } from "../../formats/request-record.ts";
import type { ResponseOutcome } from "./response-tracker.ts";
import { computeLatency } from "./timing.ts";
import { usageProblem } from "./usage-check.ts";

export type EngineName = RequestRecord["engine"];

export interface RecordContext {
  experimentId: string;
  engine: EngineName;
  requestId: string;
  promptSet: string;
  /** Prompt length known before sending (synthetic sets), used when `usage` is missing. */
  promptTokensKnown: number | null;
  warmup: boolean;
  /** Wall-clock send time, µs since the epoch. */
  startUs: number;
  /** Monotonic send time, ms (same clock as the outcome's times). */
  sendMs: number;
  /** false: the engine could not see chunk times (plain k6), so TTFT/ITL and the gaps are null. */
  chunkTimesVisible: boolean;
  /** prefill-only: the wave the request belongs to (load/workload/scenarios.ts). */
  wave?: number;
  /** The request's `max_tokens`, to check the server's `usage` against; absent: not checked. */
  maxTokens?: number | null;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const opt = (x: number | null | undefined) => (x === null || x === undefined ? null : round3(x));

export function buildRecord(ctx: RecordContext, outcome: ResponseOutcome): RequestRecord {
  // A usage that cannot be true fails the record (usage-check.ts): its tokens are never summed.
  const impossible =
    outcome.errorKind === null
      ? usageProblem({
          usage: outcome.usage,
          textChunks: outcome.textChunks,
          maxTokens: ctx.maxTokens ?? null,
        })
      : null;
  const usage = impossible === null ? outcome.usage : null;
  const fromUsage = usage?.completionTokens ?? null;
  const outputTokens = fromUsage ?? outcome.textChunks;
  const latency = computeLatency(
    ctx.sendMs,
    outcome.endMs,
    ctx.chunkTimesVisible ? outcome.textTimesMs : [],
    outputTokens,
  );
  const endUs = ctx.startUs + Math.round(latency.e2eMs * 1000);
  return {
    experiment_id: ctx.experimentId,
    engine: ctx.engine,
    request_id: ctx.requestId,
    prompt_set: ctx.promptSet,
    start_us: ctx.startUs,
    end_us: endUs,
    ttft_ms: opt(latency.ttftMs),
    e2e_ms: round3(latency.e2eMs),
    itl_mean_ms: opt(latency.itl?.meanMs),
    itl_p50_ms: opt(latency.itl?.p50Ms),
    itl_p90_ms: opt(latency.itl?.p90Ms),
    itl_p99_ms: opt(latency.itl?.p99Ms),
    itl_max_ms: opt(latency.itl?.maxMs),
    itl_gaps_ms: latency.gapsMs === null ? null : latency.gapsMs.map(round3),
    tpot_ms: opt(latency.tpotMs),
    prompt_tokens: usage?.promptTokens ?? ctx.promptTokensKnown,
    output_tokens: outputTokens,
    ...(ctx.maxTokens === undefined ? {} : { max_tokens: ctx.maxTokens }),
    tokens_from_usage: fromUsage !== null,
    http_status: outcome.httpStatus,
    ok: outcome.errorKind === null && impossible === null,
    error_kind: impossible === null ? outcome.errorKind : "bad_payload",
    error_message: impossible ?? outcome.errorMessage,
    finish_reason: outcome.finishReason,
    warmup: ctx.warmup,
    ...(ctx.wave === undefined ? {} : { wave: ctx.wave }),
  };
}
