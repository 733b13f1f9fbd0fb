/** Streams values as NDJSON with bounded memory (1 MiB chunks, back-pressure honoured); returns the line count. */
import { once } from "node:events";
import { createWriteStream } from "node:fs";

export async function writeNdjson(
  file: string,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
): Promise<number> {
  const out = createWriteStream(file);
  let n = 0;
  let chunk = "";
  for await (const row of rows) {
    chunk += `${JSON.stringify(row)}\n`;
    n++;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.end(chunk);
  await once(out, "finish");
  return n;
}
