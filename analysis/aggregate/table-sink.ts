/**
 * An output table being written: rows are batched into Arrow record batches
 * and streamed to a Parquet file under a temporary name. `commit()` finishes
 * the file (the caller renames it into place); `discard()` removes it.
 */
import { rm } from "node:fs/promises";
import { tempPathFor } from "../../common/atomic-write.ts";
import type { ColumnDef } from "../../formats/agg-tables.ts";
import { type ColumnBuilder, type Row, RowBatcher } from "./arrow-batch.ts";
import { ParquetStreamWriter } from "./parquet-file.ts";
import { ParquetThreadWriter } from "./parquet-thread-writer.ts";

/** Rows per Arrow batch handed to the writer (and per Parquet row group). */
export const BATCH_ROWS = 65_536;

export class TableSink {
  readonly tmpPath: string;
  private readonly batcher: RowBatcher;
  private readonly writer: ParquetStreamWriter | ParquetThreadWriter;
  rows = 0;

  constructor(
    readonly target: string,
    columns: readonly ColumnDef[],
    metadata: Record<string, string>,
    /** Encode in a worker thread: worth its start-up cost only for big tables. */
    opts: { thread?: boolean } = {},
  ) {
    this.tmpPath = tempPathFor(target);
    this.batcher = new RowBatcher(columns);
    const options = { rowGroupRows: BATCH_ROWS, metadata };
    this.writer = opts.thread
      ? new ParquetThreadWriter(this.tmpPath, columns, options)
      : ParquetStreamWriter.open(this.tmpPath, columns, options);
  }

  /** Returns a promise only when a batch was handed over (await it): no microtask per row. */
  push(row: Row): Promise<void> | undefined {
    this.batcher.push(row);
    this.rows++;
    if (this.batcher.pending >= BATCH_ROWS) return this.writer.write(this.batcher.flush());
    return undefined;
  }

  /** The column builders, for rows given cell by cell (then call `endRow`). */
  get builders(): readonly ColumnBuilder[] {
    return this.batcher.builders;
  }

  /** Ends a row given straight to `builders`; returns a promise as `push` does. */
  endRow(): Promise<void> | undefined {
    this.batcher.endRow();
    this.rows++;
    if (this.batcher.pending >= BATCH_ROWS) return this.writer.write(this.batcher.flush());
    return undefined;
  }

  async commit(): Promise<void> {
    if (this.batcher.pending > 0) await this.writer.write(this.batcher.flush());
    await this.writer.close();
  }

  async discard(): Promise<void> {
    await this.writer.abort();
    await rm(this.tmpPath, { force: true });
  }
}
