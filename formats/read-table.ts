/**
 * `readTable(format, path)`: the one way a stage reads another stage's Parquet
 * table. The file's columns are checked against the format (formats/*-tables.ts)
 * before any row is used, so no reader guesses column names or types; an
 * optional zod row schema adds what a particular reader relies on beyond the
 * types (the fit needs `gpus ≥ 1`, a known `status`).
 *
 * Reading is DuckDB's Parquet reader (`@duckdb/node-api`), the engine that
 * writes these files (analysis/aggregate/duck.ts): one Parquet library.
 */
import { access } from "node:fs/promises";
import { DuckDBInstance } from "@duckdb/node-api";
import type { z } from "zod";
import { DataError } from "../common/errors.ts";
import type { ColumnType, TableDef } from "./agg-tables.ts";

/** A cell as readers see it: INT64 as number, timestamps as ISO strings, null for missing. */
export type TableCell = string | number | boolean | null;
export type TableRow = Record<string, TableCell>;

export interface TableRows<R = TableRow> {
  file: string;
  /** Columns present in the file, in file order (a format's optional columns may be absent). */
  columns: string[];
  rows: R[];
}

function plain(value: unknown): TableCell {
  if (value === null || value === undefined) return null;
  // Counts and factors fit in 2⁵³; INT64 arrives as BigInt.
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean")
    return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
}

const EXPECTED: Record<ColumnType, string> = {
  int32: "an integer",
  int64: "an integer",
  float64: "a number",
  bool: "true or false",
  string: "a string",
  dict: "a string",
  timestamp_us: "a timestamp",
};

function fits(type: ColumnType, value: TableCell): boolean {
  switch (type) {
    case "int32":
    case "int64":
      return typeof value === "number" && Number.isInteger(value);
    case "float64":
      return typeof value === "number";
    case "bool":
      return typeof value === "boolean";
    case "string":
    case "dict":
    case "timestamp_us":
      return typeof value === "string";
  }
}

async function readParquetRows(path: string): Promise<{ columns: string[]; rows: TableRow[] }> {
  try {
    await access(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(code === "ENOENT" ? "file not found" : `cannot read: ${code}`, {
      file: path,
      hint: code === "ENOENT" ? "run `vscale aggregate` first" : undefined,
    });
  }
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT * FROM read_parquet('${path.replaceAll("'", "''")}')`,
    );
    const columns = reader.columnNames();
    const rows = reader.getRowObjectsJS().map((r) => {
      const row: TableRow = {};
      for (const c of columns) row[c] = plain(r[c]);
      return row;
    });
    return { columns, rows };
  } catch (error) {
    throw new DataError(`not a readable Parquet file: ${(error as Error).message.split("\n")[0]}`, {
      file: path,
    });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * A column the format declares non-nullable is always written, so it must be
 * there; a nullable one may be absent (older files, factors no experiment
 * set). Every format column the file has must hold its type.
 */
function checkColumns(format: TableDef, path: string, columns: string[], rows: TableRow[]): void {
  const present = new Set(columns);
  for (const column of format.columns) {
    if (!present.has(column.name)) {
      if (column.nullable) continue;
      throw new DataError(`column missing (expected ${EXPECTED[column.type]})`, {
        file: path,
        field: column.name,
        hint: `${format.file} schema: docs/schema.md`,
      });
    }
    for (let i = 0; i < rows.length; i++) {
      const value = (rows[i] as TableRow)[column.name] ?? null;
      if (value === null ? column.nullable : fits(column.type, value)) continue;
      throw new DataError(
        `row ${i + 1}: expected ${EXPECTED[column.type]}${column.nullable ? " or null" : ""}, got ${JSON.stringify(value)}`,
        { file: path, field: column.name, hint: `${format.file} schema: docs/schema.md` },
      );
    }
  }
}

function checkRows<S extends z.ZodType>(
  path: string,
  columns: string[],
  rows: TableRow[],
  schema: S,
): z.infer<S>[] {
  return rows.map((row, i) => {
    const result = schema.safeParse(row);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") ?? "";
    throw new DataError(`row ${i + 1}: ${issue?.message ?? "invalid row"}`, {
      file: path,
      field,
      hint: columns.includes(field)
        ? `got ${JSON.stringify(row[field])}`
        : `column \`${field}\` is missing`,
    });
  });
}

export async function readTable(format: TableDef, path: string): Promise<TableRows>;
export async function readTable<S extends z.ZodType>(
  format: TableDef,
  path: string,
  rowSchema: S,
): Promise<TableRows<z.infer<S>>>;
export async function readTable(
  format: TableDef,
  path: string,
  rowSchema?: z.ZodType,
): Promise<TableRows<unknown>> {
  const { columns, rows } = await readParquetRows(path);
  checkColumns(format, path, columns, rows);
  return {
    file: path,
    columns,
    rows: rowSchema ? checkRows(path, columns, rows, rowSchema) : rows,
  };
}

/** Like readTable, but an absent file is null: for optional inputs (profile tables). */
export async function readOptionalTable(format: TableDef, path: string): Promise<TableRows | null> {
  try {
    return await readTable(format, path);
  } catch (error) {
    if (error instanceof DataError && error.message === "file not found") return null;
    throw error;
  }
}
