/**
 * Worker-thread side of ParquetThreadWriter: receives Arrow IPC batches and
 * runs the parquet-wasm encoder, so Parquet encoding and compression overlap
 * with JSON parsing on the main thread. Acknowledges each batch once the
 * encoder has taken it (the main thread's back-pressure).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ColumnDef } from "../../formats/agg-tables.ts";
import { ParquetStreamWriter, type ParquetWriteOptions } from "./parquet-file.ts";

export type ToWorker = { type: "batch"; ipc: Uint8Array; rows: number } | { type: "close" };
export type FromWorker = { type: "ack" } | { type: "closed" } | { type: "error"; message: string };

export interface ParquetWorkerData {
  path: string;
  columns: ColumnDef[];
  options: ParquetWriteOptions;
}

const port = parentPort;
if (port) {
  const { path, columns, options } = workerData as ParquetWorkerData;
  const writer = ParquetStreamWriter.open(path, columns, options);
  // Messages are handled strictly in order: each waits for the previous one.
  let chain = Promise.resolve();
  port.on("message", (message: ToWorker) => {
    chain = chain
      .then(async () => {
        if (message.type === "batch") {
          await writer.writeIpc(message.ipc, message.rows);
          port.postMessage({ type: "ack" } satisfies FromWorker);
        } else {
          await writer.close();
          port.postMessage({ type: "closed" } satisfies FromWorker);
          port.close();
        }
      })
      .catch((error: unknown) => {
        port.postMessage({
          type: "error",
          message: error instanceof Error ? error.message : String(error),
        } satisfies FromWorker);
      });
  });
}
