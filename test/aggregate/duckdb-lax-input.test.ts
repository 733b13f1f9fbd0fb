/**
 * DuckDB's NDJSON reader is laxer than the record schema: it rounds 1.5 into
 * an integer column, reads `"yes"` as true, and reads a value that does not
 * fit a column as null. Aggregation must still hold every line to
 * `formats/request-record.ts` (analysis/aggregate/request-table.ts): such a
 * line is reported as `file:line: field: reason` and skipped, never rounded
 * or nulled into the tables, and the good lines of that file are kept.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { RAW_FILES } from "../../formats/raw-layout.ts";
import { readParquetRows } from "./duckdb-read.ts";
import { syntheticInfo, syntheticRequest, writeSyntheticExperiment } from "./synthetic-campaign.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-lax-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const good = (i: number) =>
  syntheticRequest({ request_id: `r${i}`, end_us: syntheticInfo().times.window_start_us! + i });

describe("aggregate: lines DuckDB would accept but the record schema does not", () => {
  it.each([
    ["a fraction in an integer field", { output_tokens: 1.5 }, "output_tokens"],
    ["a string where a boolean belongs", { ok: "yes" }, "ok"],
    ["a boolean written as a string", { warmup: "false" }, "warmup"],
    ["a number where a boolean belongs", { tokens_from_usage: 1 }, "tokens_from_usage"],
    ["a string where a number belongs", { prompt_tokens: "many" }, "prompt_tokens"],
    ["an engine that is not one", { engine: "wrk" }, "engine"],
    ["a negative gap", { itl_gaps_ms: [1, -2] }, "itl_gaps_ms.1"],
  ])("%s is reported with file:line and skipped", async (_name, bad, field) => {
    const lines = [good(1), { ...good(2), ...bad }, good(3)].map((r) => JSON.stringify(r));
    const expDir = await writeSyntheticExperiment(dir, { requestsText: `${lines.join("\n")}\n` });
    const logs: string[] = [];
    await aggregate({ resultsDir: dir, log: (l) => logs.push(l) });
    const file = join(expDir, RAW_FILES.requests);
    expect(logs.filter((l) => l.startsWith(`${file}:`))).toEqual([
      expect.stringMatching(
        new RegExp(`^${file}:2: ${field.replace(".", "\\.")}: .*; line skipped$`),
      ),
    ]);
    const rows = await readParquetRows(join(dir, "agg/requests.parquet"));
    expect(rows.map((r) => r.request_id)).toEqual(["r1", "r3"]);
    const [summary] = await readParquetRows(join(dir, "agg/summary.parquet"));
    expect(summary!.requests_ok).toBe(2n);
  });
});
