/**
 * Every Parquet file vscale writes goes through this module, on the embedded
 * DuckDB (`duck.ts`): rows are appended to a DuckDB table typed from the
 * format's columns and written with `COPY … (FORMAT parquet, COMPRESSION
 * zstd)`. The writers compared before DuckDB took over: docs/parquet-writers.md.
 */
import { tempPathFor } from "../../common/atomic-write.ts";
import type { ColumnDef } from "../../formats/agg-tables.ts";
import { appendRow, type CopyOptions, type Engine, type Row, sqlName, withEngine } from "./duck.ts";

export type { Row } from "./duck.ts";

/**
 * An output table filled row by row (GPU samples, gauge samples, profile
 * rows) in a shared engine; `commit()` writes it under a temporary name next
 * to `target` (the caller renames it into place).
 */
export class RowTable {
  readonly tmpPath: string;
  rows = 0;
  private appender: Awaited<ReturnType<Engine["appender"]>> | null = null;

  private constructor(
    private readonly engine: Engine,
    private readonly name: string,
    readonly target: string,
    private readonly columns: readonly ColumnDef[],
  ) {
    this.tmpPath = tempPathFor(target);
  }

  static async create(
    engine: Engine,
    name: string,
    target: string,
    columns: readonly ColumnDef[],
  ): Promise<RowTable> {
    await engine.createTable(name, columns);
    const table = new RowTable(engine, name, target, columns);
    table.appender = await engine.appender(name);
    return table;
  }

  push(row: Row): void {
    appendRow(this.appender!, this.columns, row);
    this.rows++;
  }

  /** Writes the rows, in the order pushed, to `tmpPath`; an empty table still gets its schema. */
  async commit(options: CopyOptions = {}): Promise<void> {
    this.appender?.closeSync();
    this.appender = null;
    await this.engine.copyToParquet(`SELECT * FROM ${sqlName(this.name)}`, this.tmpPath, options);
    await this.engine.run(`DROP TABLE ${sqlName(this.name)}`);
  }
}

/** A small table (the summary, the fit tables) in one go: rows in, one Parquet file at `path` out. */
export async function writeParquetRows(
  path: string,
  columns: readonly ColumnDef[],
  rows: readonly Row[],
  options: CopyOptions = {},
): Promise<void> {
  await withEngine(async (engine) => {
    await engine.createTable("t", columns);
    const appender = await engine.appender("t");
    for (const row of rows) appendRow(appender, columns, row);
    appender.closeSync();
    await engine.copyToParquet("SELECT * FROM t", path, options);
  });
}
