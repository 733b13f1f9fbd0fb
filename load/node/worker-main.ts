/**
 * One load worker thread: its own event loop and HTTP/1.1 connection pool (http1-pool.ts) running its
 * share of the schedule (runNodeLoad with `share`), records serialised here
 * and handed to the parent in batches, so the parent only appends text.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { RequestRecord } from "../../formats/request-record.ts";
import { type RecordSink, runNodeLoad } from "./run.ts";
import type { FromWorker, ToWorker, WorkerInput } from "./worker-protocol.ts";

/** Records per message, and the longest a finished record waits before it is sent. */
const BATCH_LINES = 256;
const BATCH_MS = 100;

const port = parentPort;
if (port === null) throw new Error("worker-main.ts runs only as a worker thread");
const input = workerData as WorkerInput;
const post = (message: FromWorker) => port.postMessage(message);

class BatchSink implements RecordSink {
  private text = "";
  private pending = 0;
  count = 0;
  private readonly timer = setInterval(() => this.flush(), BATCH_MS);

  write(record: RequestRecord): void {
    this.text += `${JSON.stringify(record)}\n`;
    this.pending++;
    this.count++;
    if (this.pending >= BATCH_LINES) this.flush();
  }

  private flush(): void {
    if (this.pending === 0) return;
    post({ type: "lines", text: this.text, lines: this.pending });
    this.text = "";
    this.pending = 0;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
  }

  async discard(): Promise<void> {
    await this.close();
  }
}

const controller = new AbortController();
port.on("message", (message: ToWorker) => {
  if (message.type === "stop") controller.abort();
  else if (message.type === "go") {
    runNodeLoad({
      ...input.options,
      share: input.share,
      startAtEpochMs: message.startAtEpochMs,
      sink: new BatchSink(),
      signal: controller.signal,
      onProgress: (counters) => post({ type: "progress", counters }),
    }).then(
      (result) => post({ type: "done", result }),
      (error: unknown) =>
        post({ type: "error", message: error instanceof Error ? error.message : String(error) }),
    );
  }
});
post({ type: "ready" });
