import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError } from "../../common/errors.ts";
import { col, type TableDef } from "../../formats/agg-tables.ts";
import { readTable } from "../../formats/read-table.ts";

/** A format for the DuckDB files below, as a stage would declare it. */
const FORMAT: TableDef = {
  file: "t.parquet",
  doc: "test table",
  sortedBy: [],
  computedIn: "test",
  columns: [
    col("gpus", "int64", "GPUs", false),
    col("x", "float64", "throughput"),
    col("name", "string", "name", false),
    col("flag", "bool", "flag"),
  ],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-readpq-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readTable", () => {
  // Our aggregation writes ZSTD; DuckDB and pyarrow users bring snappy, gzip or zstd.
  it.each(["zstd", "snappy", "gzip", "uncompressed"])(
    "reads %s files written by DuckDB",
    async (codec) => {
      const path = join(dir, `t-${codec}.parquet`);
      const db = await DuckDBInstance.create(":memory:");
      const conn = await db.connect();
      await conn.run(
        `COPY (SELECT i::BIGINT AS gpus, i * 1.5 AS x, 'g' || i AS name, CASE WHEN i = 2 THEN NULL ELSE i % 2 = 0 END AS flag
             FROM range(1, 5) t(i)) TO '${path}' (FORMAT parquet, COMPRESSION ${codec})`,
      );
      conn.closeSync();
      const { columns, rows } = await readTable(FORMAT, path);
      expect(columns).toEqual(["gpus", "x", "name", "flag"]);
      expect(rows).toEqual([
        { gpus: 1, x: 1.5, name: "g1", flag: false },
        { gpus: 2, x: 3, name: "g2", flag: null },
        { gpus: 3, x: 4.5, name: "g3", flag: false },
        { gpus: 4, x: 6, name: "g4", flag: true },
      ]);
    },
  );

  it("names the file when it is missing", async () => {
    const error = await readTable(FORMAT, join(dir, "absent.parquet")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).format()).toContain("absent.parquet");
  });

  it("names file, row and column when a column has the wrong type", async () => {
    const path = join(dir, "wrong.parquet");
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    await conn.run(
      `COPY (SELECT i::BIGINT AS gpus, CASE WHEN i = 3 THEN 'many' ELSE 'x' END AS x, 'g' AS name
           FROM range(1, 5) t(i)) TO '${path}' (FORMAT parquet)`,
    );
    conn.closeSync();
    const error = await readTable(FORMAT, path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).format()).toMatch(
      /wrong\.parquet: x: row 1: expected a number or null, got "x"/,
    );
  });

  it("refuses a file without a column the format says is always there", async () => {
    const path = join(dir, "missing.parquet");
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    await conn.run(`COPY (SELECT 1::BIGINT AS gpus) TO '${path}' (FORMAT parquet)`);
    conn.closeSync();
    const error = await readTable(FORMAT, path).catch((e: unknown) => e);
    expect((error as DataError).format()).toMatch(/missing\.parquet: name: column missing/);
  });
});
