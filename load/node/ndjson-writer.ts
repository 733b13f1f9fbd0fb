/**
 * Streams records to an NDJSON file as they finish (nothing is held for the
 * whole run), straight to their final name: a run killed mid-window (even by
 * SIGKILL) leaves every record written so far where aggregation reads it, and
 * costs at most a last, partial line, which readers skip with a warning. What
 * marks a campaign experiment complete is its status.json, written last.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

export class NdjsonWriter<T> {
  private lines = 0;
  private failure: Error | null = null;

  private constructor(private readonly stream: WriteStream) {
    stream.on("error", (error) => {
      this.failure = error;
    });
  }

  static async open<T>(target: string): Promise<NdjsonWriter<T>> {
    await mkdir(dirname(target), { recursive: true });
    const stream = createWriteStream(target, { flags: "w" });
    await new Promise<void>((resolve, reject) => {
      stream.once("open", () => resolve());
      stream.once("error", reject);
    });
    return new NdjsonWriter<T>(stream);
  }

  get count(): number {
    return this.lines;
  }

  write(row: T): void {
    if (this.failure) throw this.failure;
    this.stream.write(`${JSON.stringify(row)}\n`);
    this.lines++;
  }

  /** Lines already serialised (a worker's batch, each ending in a newline). */
  writeLines(text: string, lines: number): void {
    if (this.failure) throw this.failure;
    this.stream.write(text);
    this.lines += lines;
  }

  /** Flush and close. */
  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
    if (this.failure) throw this.failure;
  }

  /** Give up after a failure: flush what was written (it stays, as after a crash) and close. */
  async discard(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.stream.end(() => resolve());
    });
  }
}
