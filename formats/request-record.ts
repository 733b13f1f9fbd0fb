/**
 * The per-request record: one JSON object per line in `requests.ndjson`,
 * written by both load engines (Node and k6) and read by aggregation. This
 * schema is the format's documentation.
 *
 * Definitions follow vLLM's benchmark (`vllm bench serve`):
 * - TTFT: send → first chunk carrying generated text (a role-only chunk does not count).
 * - ITL: the gaps between consecutive text chunks.
 * - TPOT: (E2E − TTFT) / (output tokens − 1).
 * Window figures from these records: `stats/request-window.ts`.
 *
 * The workload core imports this file with `import type` only, so k6 (which
 * cannot load zod) never evaluates it.
 */
import { z } from "zod";

/**
 * 2: `itl_gaps_ms` added (every gap, so ITL percentiles can pool them as
 * `vllm bench serve` does). Records without it (version 1) still read, as null.
 */
export const RECORD_SCHEMA_VERSION = 2;

export const ErrorKind = z.enum([
  "timeout",
  "http_4xx",
  "http_5xx",
  "connect",
  "reset",
  "truncated",
  "bad_payload",
  /** Cut by the engine (sent in the cool-down and in flight at its end, k6's stop, Ctrl-C): not a server fault. */
  "cancelled",
]);
export type ErrorKind = z.infer<typeof ErrorKind>;

const ms = z.number().min(0).nullable();

/**
 * What one record must hold across its fields to be true: checked by the schema
 * below (the line-by-line path, with line numbers) and, as the same SQL, by
 * aggregation's DuckDB read (analysis/aggregate/request-table.ts). A record
 * breaking one is refused, never summed.
 */
export const RECORD_INVARIANTS = [
  {
    field: "end_us",
    message: "ends before it starts (end_us < start_us)",
    holds: (r: { start_us: number; end_us: number }) => r.end_us >= r.start_us,
    sql: "end_us >= start_us",
  },
  {
    field: "error_kind",
    message: "is ok and has an error_kind",
    holds: (r: { ok: boolean; error_kind: string | null }) => !(r.ok && r.error_kind !== null),
    // `ok` is read as JSON text there (request-table.ts readType).
    sql: "NOT (ok::VARCHAR = 'true' AND error_kind IS NOT NULL)",
  },
  {
    // Ok records only: a failed one keeps the chunks it saw, however many the server sent.
    field: "output_tokens",
    message: "is ok with more output tokens than the request's max_tokens",
    holds: (r: { ok: boolean; output_tokens: number | null; max_tokens?: number | null }) =>
      !r.ok ||
      r.output_tokens === null ||
      r.max_tokens === null ||
      r.max_tokens === undefined ||
      r.output_tokens <= r.max_tokens,
    sql: "ok::VARCHAR <> 'true' OR coalesce(output_tokens <= max_tokens, true)",
  },
] as const;

export const RequestRecordSchema = z
  .strictObject({
    experiment_id: z.string(),
    /** `k6-sse` is k6 with the xk6-sse extension, which can see individual events. */
    engine: z.enum(["node", "k6", "k6-sse"]),
    request_id: z.string(),
    prompt_set: z.string(),
    /** Wall-clock send time, microseconds since the Unix epoch. */
    start_us: z.number().int(),
    /** Wall-clock completion (or failure) time, microseconds since the Unix epoch. */
    end_us: z.number().int(),
    /** null when unmeasurable (plain k6 buffers bodies) or no text arrived. */
    ttft_ms: ms,
    e2e_ms: ms,
    itl_mean_ms: ms,
    itl_p50_ms: ms,
    itl_p90_ms: ms,
    itl_p99_ms: ms,
    itl_max_ms: ms,
    /**
     * Every gap between consecutive text chunks (ms, µs resolution), in order;
     * `[]` for a single chunk; null when the engine cannot see chunks (plain k6,
     * buffered answers) or no text arrived. Absent in version-1 records.
     */
    itl_gaps_ms: z.array(z.number().min(0)).nullable().optional(),
    tpot_ms: ms,
    prompt_tokens: z.number().int().min(0).nullable(),
    output_tokens: z.number().int().min(0).nullable(),
    /** The request's `max_tokens`: output_tokens can be no more; absent in records of older runs. */
    max_tokens: z.number().int().min(1).nullable().optional(),
    /** true: token counts from the server's `usage`; false: counted text chunks (a fallback). */
    tokens_from_usage: z.boolean(),
    /** HTTP status; null when no response arrived (connect error, timeout before headers). */
    http_status: z.number().int().nullable(),
    ok: z.boolean(),
    error_kind: ErrorKind.nullable(),
    /** Short, secret-free description of the failure. */
    error_message: z.string().nullable(),
    finish_reason: z.string().nullable(),
    /** Sent during warm-up: left out of latency figures (they take requests sent in the window); throughput counts every ok request that finished inside the window. */
    warmup: z.boolean(),
    /**
     * prefill-only scenario: the 0-based wave (B requests sent together, the next
     * wave after all of them finished); absent for every other load.
     */
    wave: z.number().int().min(0).nullable().optional(),
  })
  .superRefine((r, ctx) => {
    for (const rule of RECORD_INVARIANTS) {
      if (!(rule.holds as (r: unknown) => boolean)(r))
        ctx.addIssue({ code: "custom", path: [rule.field], message: rule.message });
    }
  });

export type RequestRecord = z.infer<typeof RequestRecordSchema>;
