/**
 * Writes a `summary.parquet` with the aggregation contract's columns through
 * DuckDB (an independent writer, so the reader is tested against real
 * Parquet), from planted scaling curves.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createRng } from "../../../stats/rng.ts";

export interface SyntheticRow {
  campaign?: string;
  experiment_id: string;
  group_id?: string;
  repeat: number;
  status?: "ok" | "failed" | "interrupted";
  status_reason?: string | null;
  gpus: number;
  tp: number;
  dp: number;
  /** The `users` factor; null for a load not given as a factor (a `per_gpu` load). */
  users?: number | null;
  /** The load as it ran (defaults to `users`); set it and `users: null` for a `per_gpu` load. */
  load_users?: number;
  prompt_set?: string;
  output_tokens_per_s: number | null;
  requests_per_s?: number | null;
  ttft_ms_p50?: number;
  ttft_ms_p99?: number;
  e2e_ms_p50?: number;
  e2e_ms_p90?: number;
  /** The saturation guard's flag (load/client-guard.ts); null when not measured. */
  client_limited?: boolean | null;
}

function sqlValue(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "'NaN'::DOUBLE";
  return `'${String(value).replaceAll("'", "''")}'`;
}

/** Writes rows (one per experiment) to `<resultsDir>/agg/summary.parquet`. */
export async function writeSyntheticSummary(
  resultsDir: string,
  rows: SyntheticRow[],
): Promise<string> {
  const file = join(resultsDir, "agg", "summary.parquet");
  await mkdir(join(resultsDir, "agg"), { recursive: true });
  const values = rows.map((r) => {
    const cells = [
      1,
      r.campaign ?? "syn",
      r.experiment_id,
      r.group_id ?? `g${r.gpus}`,
      r.repeat,
      r.status ?? "ok",
      r.status_reason ?? null,
      r.gpus,
      r.tp,
      r.dp,
      r.users === null ? null : (r.users ?? 32),
      r.prompt_set ?? "short",
      "node",
      "closed",
      "chat",
      "sim-model",
      r.load_users ?? r.users ?? 32,
      60,
      r.output_tokens_per_s,
      r.requests_per_s ?? (r.output_tokens_per_s === null ? null : r.output_tokens_per_s / 128),
      r.output_tokens_per_s === null ? null : r.output_tokens_per_s * 1.5,
      r.ttft_ms_p50 ?? 50,
      r.ttft_ms_p99 ?? 120,
      r.e2e_ms_p50 ?? 800,
      r.e2e_ms_p90 ?? 1100,
      r.client_limited ?? null,
    ];
    return `(${cells.map(sqlValue).join(", ")})`;
  });
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(`
      COPY (
        SELECT schema_version::INTEGER AS schema_version, campaign, experiment_id, group_id,
          repeat::INTEGER AS repeat, status, status_reason,
          gpus::BIGINT AS gpus, tp::BIGINT AS tp, dp::BIGINT AS dp, users::BIGINT AS users, prompt_set,
          engine, mode, api, model, load_users::BIGINT AS load_users, window_s::DOUBLE AS window_s,
          output_tokens_per_s::DOUBLE AS output_tokens_per_s,
          requests_per_s::DOUBLE AS requests_per_s, total_tokens_per_s::DOUBLE AS total_tokens_per_s,
          ttft_ms_p50::DOUBLE AS ttft_ms_p50, ttft_ms_p99::DOUBLE AS ttft_ms_p99,
          e2e_ms_p50::DOUBLE AS e2e_ms_p50, e2e_ms_p90::DOUBLE AS e2e_ms_p90,
          client_limited::BOOLEAN AS client_limited
        FROM (VALUES ${values.join(",\n")}) AS t(schema_version, campaign, experiment_id, group_id,
          repeat, status, status_reason, gpus, tp, dp, users, prompt_set, engine, mode, api, model,
          load_users, window_s, output_tokens_per_s, requests_per_s, total_tokens_per_s, ttft_ms_p50,
          ttft_ms_p99, e2e_ms_p50, e2e_ms_p90, client_limited)
        ORDER BY campaign, experiment_id
      ) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return file;
}

/** Planted Amdahl curve X(N) = x1·N/(1 + s(N − 1)) with multiplicative Gaussian noise. */
export function amdahlRows(opts: {
  s: number;
  x1?: number;
  gpus?: number[];
  repeats?: number;
  noise?: number;
  seed?: number;
  parallelism?: "tp" | "dp";
  users?: number;
  prefix?: string;
}): SyntheticRow[] {
  const rng = createRng(opts.seed ?? 7);
  const x1 = opts.x1 ?? 1000;
  const rows: SyntheticRow[] = [];
  for (const gpus of opts.gpus ?? [1, 2, 4, 8]) {
    for (let repeat = 1; repeat <= (opts.repeats ?? 3); repeat++) {
      const x =
        ((x1 * gpus) / (1 + opts.s * (gpus - 1))) * (1 + (opts.noise ?? 0.03) * rng.normal());
      const dp = opts.parallelism === "dp";
      rows.push({
        experiment_id: `${opts.prefix ?? ""}${dp ? "dp" : "tp"}${gpus}-u${opts.users ?? 32}-r${repeat}`,
        repeat,
        gpus,
        tp: dp ? 1 : gpus,
        dp: dp ? gpus : 1,
        users: opts.users ?? 32,
        output_tokens_per_s: x,
        e2e_ms_p90: 1000 + (20 * (opts.users ?? 32)) / gpus,
        ttft_ms_p99: 50 + (5 * (opts.users ?? 32)) / gpus,
      });
    }
  }
  return rows;
}
