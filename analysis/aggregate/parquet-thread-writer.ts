/**
 * ParquetStreamWriter's interface with the encoder in a worker thread
 * (parquet-worker.ts). At most two batches are in flight, so memory stays
 * bounded; IPC buffers are transferred, not copied.
 *
 * Node 20 does not pass tsx's loader on to workers, so the worker starts from
 * a two-line ESM bootstrap that registers tsx, then imports the TypeScript entry.
 */
import { Worker } from "node:worker_threads";
import { type Table as ArrowTable, tableToIPC } from "apache-arrow";
import type { ColumnDef } from "../../formats/agg-tables.ts";
import { RowBatcher } from "./arrow-batch.ts";
import type { ParquetWriteOptions } from "./parquet-file.ts";
import type { FromWorker, ParquetWorkerData, ToWorker } from "./parquet-worker.ts";

const MAX_IN_FLIGHT = 2;
const ENTRY = new URL("./parquet-worker.ts", import.meta.url).href;
const TSX_API = import.meta.resolve("tsx/esm/api");
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY)}); });`;

export class ParquetThreadWriter {
  private readonly worker: Worker;
  private inFlight = 0;
  private batches = 0;
  private failure: Error | null = null;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private closed: { resolve: () => void; reject: (e: Error) => void } | null = null;
  rows = 0;

  constructor(
    path: string,
    private readonly columns: readonly ColumnDef[],
    options: ParquetWriteOptions,
  ) {
    const data: ParquetWorkerData = { path, columns: [...columns], options };
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData: data });
    this.worker.on("message", (message: FromWorker) => {
      if (message.type === "ack") {
        this.inFlight--;
        this.waiters.shift()?.resolve();
      } else if (message.type === "closed") {
        this.closed?.resolve();
      } else this.fail(new Error(`Parquet writer: ${message.message}`));
    });
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => {
      if (code !== 0) this.fail(new Error(`Parquet writer thread exited with ${code}`));
      else if (this.closed) this.closed.resolve();
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const w of this.waiters.splice(0)) w.reject(error);
    this.closed?.reject(error);
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  async write(table: ArrowTable): Promise<void> {
    if (this.failure) throw this.failure;
    if (table.numRows === 0 && this.batches > 0) return;
    this.batches++;
    const ipc = tableToIPC(table, "stream");
    this.inFlight++;
    this.rows += table.numRows;
    const acked = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.post({ type: "batch", ipc, rows: table.numRows }, [ipc.buffer as ArrayBuffer]);
    if (this.inFlight >= MAX_IN_FLIGHT) await acked;
    else acked.catch(() => {}); // a failure surfaces at the next write or close
  }

  async close(): Promise<void> {
    // An empty table still gets a file with its schema, so readers need no special case.
    if (this.batches === 0) await this.write(new RowBatcher(this.columns).flush());
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => {
      this.closed = { resolve, reject };
      this.post({ type: "close" });
    });
  }

  async abort(): Promise<void> {
    this.failure ??= new Error("aborted");
    await this.worker.terminate();
  }
}
