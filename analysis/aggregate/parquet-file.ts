/**
 * Streams Arrow tables into one Parquet file with parquet-wasm (Rust's
 * `parquet` crate compiled to WebAssembly; chosen by measurement, see
 * docs/parquet-writers.md). Batches are handed over one at a time with
 * back-pressure, so memory stays bounded by a row group whatever the file size.
 * The file appears under its final name only when complete (temp + rename).
 */
import { createWriteStream } from "node:fs";
import { Writable } from "node:stream";
import { type Table as ArrowTable, tableToIPC } from "apache-arrow";
import {
  Compression,
  transformParquetStream,
  type RecordBatch as WasmRecordBatch,
  Table as WasmTable,
  WriterPropertiesBuilder,
} from "parquet-wasm";
import type { ColumnDef } from "../../formats/agg-tables.ts";
import { type Row, RowBatcher } from "./arrow-batch.ts";

export interface ParquetWriteOptions {
  /** Rows per row group; the writer buffers at most this many rows. */
  rowGroupRows?: number;
  /** Key/value metadata stored in the footer. */
  metadata?: Record<string, string>;
  /** The footer's `created_by`. */
  createdBy?: string;
}

export class ParquetStreamWriter {
  private controller!: ReadableStreamDefaultController<WasmRecordBatch>;
  private wakeWriter: (() => void) | null = null;
  private readonly done: Promise<void>;
  rows = 0;

  private batches = 0;

  private constructor(
    path: string,
    private readonly columns: readonly ColumnDef[],
    options: ParquetWriteOptions,
  ) {
    const input = new ReadableStream<WasmRecordBatch>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          this.wakeWriter?.();
          this.wakeWriter = null;
        },
      },
      { highWaterMark: 2 },
    );
    let builder = new WriterPropertiesBuilder()
      .setCompression(Compression.ZSTD)
      .setMaxRowGroupSize(options.rowGroupRows ?? 131_072)
      .setCreatedBy(options.createdBy ?? "vscale aggregate (parquet-wasm)");
    // Dictionary pages only where the Arrow column is a dictionary: on numbers and unique
    // strings they cost twice the time and make files larger (measured in bench/aggregate.ts).
    for (const column of columns) {
      if (column.type !== "dict") builder = builder.setColumnDictionaryEnabled(column.name, false);
    }
    if (options.metadata)
      builder = builder.setKeyValueMetadata(new Map(Object.entries(options.metadata)));
    const properties = builder.build();
    this.done = transformParquetStream(input, properties).then((bytes) =>
      bytes.pipeTo(Writable.toWeb(createWriteStream(path)) as WritableStream<Uint8Array>),
    );
    // Surface a writer failure at the next write/close rather than as an unhandled rejection.
    this.done.catch(() => {});
  }

  static open(
    path: string,
    columns: readonly ColumnDef[],
    options: ParquetWriteOptions = {},
  ): ParquetStreamWriter {
    return new ParquetStreamWriter(path, columns, options);
  }

  write(table: ArrowTable): Promise<void> {
    if (table.numRows === 0 && this.batches > 0) return Promise.resolve();
    return this.writeIpc(tableToIPC(table, "stream"), table.numRows);
  }

  /** The same, from an Arrow IPC stream (what crosses a worker-thread boundary). */
  async writeIpc(ipc: Uint8Array, rows: number): Promise<void> {
    this.batches++;
    const wasm = WasmTable.fromIPCStream(ipc);
    for (const batch of wasm.recordBatches()) this.controller.enqueue(batch);
    this.rows += rows;
    // Back-pressure: wait until the Parquet side has taken the queued batches.
    while ((this.controller.desiredSize ?? 1) <= 0) {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.wakeWriter = resolve;
        }),
        this.done,
      ]);
    }
  }

  async close(): Promise<void> {
    // An empty table still gets a file with its schema, so readers need no special case.
    if (this.batches === 0) await this.write(new RowBatcher(this.columns).flush());
    this.controller.close();
    await this.done;
  }

  async abort(reason: unknown = new Error("aborted")): Promise<void> {
    try {
      this.controller.error(reason);
    } catch {
      // already closed
    }
    await this.done.catch(() => {});
  }
}

/**
 * A small table (the summary, the fit tables) in one go: rows in, one Parquet
 * file at `path` out. Every Parquet file vscale writes goes through this module.
 */
export async function writeParquetRows(
  path: string,
  columns: readonly ColumnDef[],
  rows: readonly Row[],
  options: ParquetWriteOptions = {},
): Promise<void> {
  const writer = ParquetStreamWriter.open(path, columns, options);
  try {
    const batcher = new RowBatcher(columns);
    for (const row of rows) batcher.push(row);
    await writer.write(batcher.flush());
    await writer.close();
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
}
