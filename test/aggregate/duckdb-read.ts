/**
 * The independent reader every test checks Parquet output with: DuckDB's own
 * Parquet reader, through @duckdb/node-api. One in-memory instance per call,
 * closed afterwards.
 */
import { DuckDBInstance } from "@duckdb/node-api";

export type DuckValue = string | number | boolean | bigint | null;

export async function duckQuery(sql: string): Promise<Record<string, DuckValue>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => {
      const out: Record<string, DuckValue> = {};
      for (const [k, v] of Object.entries(row)) {
        out[k] = v instanceof Date ? BigInt(v.getTime()) * 1000n : (v as DuckValue);
      }
      return out;
    });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export function readParquetRows(
  file: string,
  orderBy?: string,
): Promise<Record<string, DuckValue>[]> {
  return duckQuery(`SELECT * FROM read_parquet('${file}')${orderBy ? ` ORDER BY ${orderBy}` : ""}`);
}

/** Column name → DuckDB type, in file order. */
export async function parquetColumnTypes(file: string): Promise<Record<string, string>> {
  const rows = await duckQuery(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}
