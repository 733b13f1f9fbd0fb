/**
 * Streams records to an NDJSON file as they finish (nothing is held for the
 * whole run). Lines go to a temporary file next to the target, renamed into
 * place by `close()`, so readers never see a half-written results file.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { tempPathFor } from "../../common/atomic-write.ts";

export class NdjsonWriter<T> {
  private lines = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly target: string,
    private readonly tmp: string,
    private readonly stream: WriteStream,
  ) {
    stream.on("error", (error) => {
      this.failure = error;
    });
  }

  static async open<T>(target: string): Promise<NdjsonWriter<T>> {
    await mkdir(dirname(target), { recursive: true });
    const tmp = tempPathFor(target);
    const stream = createWriteStream(tmp, { flags: "w" });
    await new Promise<void>((resolve, reject) => {
      stream.once("open", () => resolve());
      stream.once("error", reject);
    });
    return new NdjsonWriter<T>(target, tmp, stream);
  }

  get count(): number {
    return this.lines;
  }

  write(row: T): void {
    if (this.failure) throw this.failure;
    this.stream.write(`${JSON.stringify(row)}\n`);
    this.lines++;
  }

  /** Flush and rename into place. */
  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
    if (this.failure) throw this.failure;
    await rename(this.tmp, this.target);
  }

  /** Give up: remove the temporary file. */
  async discard(): Promise<void> {
    this.stream.destroy();
    await rm(this.tmp, { force: true });
  }
}
