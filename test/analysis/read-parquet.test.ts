import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readParquetRows } from "../../analysis/fit/read-parquet.ts";
import { DataError } from "../../common/errors.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-readpq-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readParquetRows", () => {
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
      const { columns, rows } = await readParquetRows(path);
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
    const error = await readParquetRows(join(dir, "absent.parquet")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).format()).toContain("absent.parquet");
  });
});
