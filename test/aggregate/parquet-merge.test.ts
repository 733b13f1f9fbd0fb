/**
 * `ParquetJoin` (analysis/aggregate/parquet-merge.ts) copies column chunks
 * as written and rewrites only the footer, so every offset it moves must
 * land: the merged file, read by DuckDB's own reader, must hold the inputs'
 * rows in input order, with dictionary pages, bloom filters (a point lookup
 * reads them), several row groups, an empty input and a dropped list column.
 * hyparquet, a reader of its own (no DuckDB code), reads the footer and pages
 * too: a footer DuckDB tolerates but the format forbids would fail there.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type JoinOptions, ParquetJoin } from "../../analysis/aggregate/parquet-merge.ts";
import { duckQuery } from "./duckdb-read.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-parquet-merge-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `n` rows from `from`: a few distinct strings (dictionary pages, bloom filters), a list, nulls. */
function rowsSql(from: number, n: number): string {
  return `SELECT range AS id, 'k' || (range % 7)::VARCHAR AS key, range * 0.5 AS x,
      CASE WHEN range % 5 = 0 THEN NULL ELSE [range, range + 1]::DOUBLE[] END AS gaps,
      range % 3 = 0 AS flag
    FROM range(${from}, ${from + n})`;
}

async function write(name: string, from: number, n: number): Promise<string> {
  const path = join(dir, name);
  await duckQuery(
    `COPY (${rowsSql(from, n)}) TO '${path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048, KV_METADATA {'who': 'input'})`,
  );
  return path;
}

async function joinFiles(
  inputs: readonly string[],
  out: string,
  options?: JoinOptions,
): Promise<void> {
  const joined = await ParquetJoin.create(out, options);
  for (const input of inputs) await joined.add(input);
  await joined.finish();
}

/** Every row of `path` as hyparquet reads it, with the footer's row count and row-group sizes. */
async function hyparquetRead(path: string) {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const rows = await parquetReadObjects({ file, metadata, compressors });
  const groups = metadata.row_groups.map((g) => ({
    rows: Number(g.num_rows),
    bytes: Number(g.total_byte_size),
    chunks: g.columns.reduce((n, c) => n + Number(c.meta_data?.total_uncompressed_size ?? 0), 0),
  }));
  return { numRows: Number(metadata.num_rows), groups, rows };
}

/** The inputs' rows in input order as DuckDB reads each file, less `drop`. */
async function inputRows(inputs: readonly string[], drop: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  for (const input of inputs)
    rows.push(
      ...(await duckQuery(
        `SELECT * EXCLUDE (${drop}) FROM read_parquet('${input}', file_row_number = true) ORDER BY file_row_number`,
      )),
    );
  return rows.map((r) => {
    const { file_row_number: _n, ...rest } = r as Record<string, unknown>;
    return rest;
  });
}

describe("ParquetJoin", () => {
  it("holds every input's rows in input order, readable by DuckDB with its filters", async () => {
    const inputs = [await write("a.parquet", 0, 5000), await write("b.parquet", 9000, 0)];
    inputs.push(await write("c.parquet", 20000, 3000));
    const out = join(dir, "merged.parquet");
    await joinFiles(inputs, out, { drop: ["gaps"], metadata: { "vscale.x": "1" } });

    // Row i of the file (file_row_number: its position, whatever the scan's threads) is the
    // i-th row of a.parquet, then of c.parquet (b.parquet is empty).
    const order = await duckQuery(
      `SELECT count(*) AS n, count(*) FILTER (WHERE id <> CASE WHEN file_row_number < 5000
          THEN file_row_number ELSE 20000 + file_row_number - 5000 END) AS misplaced
        FROM read_parquet('${out}', file_row_number = true)`,
    );
    expect(order).toEqual([{ n: 8000n, misplaced: 0n }]);
    // Same values, column by column, as the inputs read together.
    const diff = await duckQuery(
      `SELECT count(*) AS n FROM (SELECT * EXCLUDE gaps FROM read_parquet(['${inputs.join("','")}']) EXCEPT ALL SELECT * FROM read_parquet('${out}'))`,
    );
    expect(diff[0]!.n).toBe(0n);
    const columns = await duckQuery(`DESCRIBE SELECT * FROM read_parquet('${out}')`);
    expect(columns.map((c) => c.column_name)).toEqual(["id", "key", "x", "flag"]);
    const meta = await duckQuery(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${out}')`,
    );
    expect(meta).toEqual([{ k: "vscale.x", v: "1" }]);
    const groups = await duckQuery(
      `SELECT count(DISTINCT row_group_id) AS g, count(bloom_filter_offset) AS blooms FROM parquet_metadata('${out}')`,
    );
    expect(Number(groups[0]!.g)).toBeGreaterThan(2);
    expect(Number(groups[0]!.blooms)).toBeGreaterThan(0);
    // Each row group's size is its kept chunks', not the input's with the dropped column.
    const sizes = await duckQuery(
      `SELECT count(*) FILTER (WHERE bytes <> chunks) AS off FROM (SELECT row_group_id,
          any_value(row_group_bytes) AS bytes, sum(total_uncompressed_size) AS chunks
        FROM parquet_metadata('${out}') GROUP BY row_group_id)`,
    );
    expect(sizes).toEqual([{ off: 0n }]);
    // A lookup DuckDB prunes by statistics and bloom filters: both must point at the right bytes.
    const hits = await duckQuery(
      `SELECT count(*) AS n, sum(x) AS sx FROM read_parquet('${out}') WHERE key = 'k3' AND id >= 20000`,
    );
    expect(hits).toEqual([{ n: 429n, sx: 4_611_750 }]);

    const other = await hyparquetRead(out);
    expect(other.numRows).toBe(8000);
    expect(other.rows).toEqual(await inputRows(inputs, "gaps"));
    expect(other.groups.reduce((n, g) => n + g.rows, 0)).toBe(8000);
    for (const g of other.groups) expect(g.bytes).toBe(g.chunks);
  });

  it("keeps the list column when nothing is dropped", async () => {
    const inputs = [await write("a.parquet", 0, 10), await write("b.parquet", 10, 10)];
    const out = join(dir, "merged.parquet");
    await joinFiles(inputs, out);
    const rows = await duckQuery(
      `SELECT id, gaps::VARCHAR AS gaps FROM read_parquet('${out}') WHERE id IN (5, 11, 15)`,
    );
    expect(rows).toEqual([
      { id: 5n, gaps: null },
      { id: 11n, gaps: "[11.0, 12.0]" },
      { id: 15n, gaps: null },
    ]);
    const other = await hyparquetRead(out);
    const gaps = other.rows.map((r) => (r as { gaps: number[] | null }).gaps);
    expect(gaps[11]).toEqual([11, 12]);
    expect(gaps[15]).toBeNull();
    expect(other.rows.map((r) => (r as { id: bigint }).id)).toEqual(
      Array.from({ length: 20 }, (_, i) => BigInt(i)),
    );
  });

  it("refuses inputs whose columns differ", async () => {
    const a = await write("a.parquet", 0, 10);
    const b = join(dir, "b.parquet");
    await duckQuery(`COPY (SELECT 1 AS id) TO '${b}' (FORMAT parquet)`);
    const joined = await ParquetJoin.create(join(dir, "m.parquet"));
    await joined.add(a);
    await expect(joined.add(b)).rejects.toThrow(/schema differs/);
    await joined.abandon();
  });
});
