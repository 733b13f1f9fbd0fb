/**
 * Streams records to an NDJSON file as they finish (nothing is held for the
 * whole run), straight to their final name: a run killed mid-window (even by
 * SIGKILL) leaves every record finished up to 100 ms before where aggregation
 * reads it, and costs at most a last, partial line, which readers skip with a
 * warning. What marks a campaign experiment complete is its status.json,
 * written last. Lines are gathered for up to 100 ms or 64 KiB per write: a
 * stream write per record cost the load engine's one thread more than a
 * streamed request's parsing.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

const FLUSH_MS = 100;
const FLUSH_CHARS = 64 * 1024;

export class NdjsonWriter<T> {
  private lines = 0;
  private failure: Error | null = null;
  private pending = "";
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly stream: WriteStream) {
    stream.on("error", (error) => {
      this.failure = error;
    });
    // Unref'd: a writer left open never keeps the process alive.
    this.timer = setInterval(() => this.flush(), FLUSH_MS).unref();
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
    this.writeLines(`${JSON.stringify(row)}\n`, 1);
  }

  /** Lines already serialised (a worker's batch, each ending in a newline). */
  writeLines(text: string, lines: number): void {
    if (this.failure) throw this.failure;
    this.pending += text;
    this.lines += lines;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.pending === "") return;
    this.stream.write(this.pending);
    this.pending = "";
  }

  /** Flush and close. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await new Promise<void>((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
    if (this.failure) throw this.failure;
  }

  /** Give up after a failure: flush what was written (it stays, as after a crash) and close. */
  async discard(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await new Promise<void>((resolve) => {
      this.stream.end(() => resolve());
    });
  }
}
