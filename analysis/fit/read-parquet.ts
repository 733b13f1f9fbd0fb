/**
 * Read a Parquet file into plain row objects with hyparquet (pure JS). INT64
 * arrives as BigInt: converted to number (counts and factors fit in 2⁵³).
 */
import { readFile } from "node:fs/promises";
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { DataError } from "../../common/errors.ts";

export type ParquetValue = string | number | boolean | null;
export type ParquetRow = Record<string, ParquetValue>;

function plain(value: unknown): ParquetValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean")
    return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
}

export interface ParquetRows {
  columns: string[];
  rows: ParquetRow[];
}

export async function readParquetRows(path: string): Promise<ParquetRows> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(code === "ENOENT" ? "file not found" : `cannot read: ${code}`, {
      file: path,
      hint: code === "ENOENT" ? "run `vscale aggregate` first" : undefined,
    });
  }
  const file = new Uint8Array(bytes).buffer;
  try {
    const metadata = parquetMetadata(file);
    const columns = parquetSchema(metadata).children.map((c) => c.element.name);
    // ZSTD/Brotli/LZ4 come from hyparquet-compressors: our aggregation writes ZSTD,
    // and so do DuckDB and pandas (pyarrow) files users may point us at.
    const raw = await parquetReadObjects({ file, metadata, compressors });
    const rows = raw.map((r) => {
      const row: ParquetRow = {};
      for (const c of columns) row[c] = plain(r[c]);
      return row;
    });
    return { columns, rows };
  } catch (error) {
    throw new DataError(`not a readable Parquet file: ${(error as Error).message}`, {
      file: path,
    });
  }
}

/** Like readParquetRows, but an absent file is null: for optional inputs. */
export async function readOptionalParquetRows(path: string): Promise<ParquetRows | null> {
  try {
    return await readParquetRows(path);
  } catch (error) {
    if (error instanceof DataError && error.message === "file not found") return null;
    throw error;
  }
}
