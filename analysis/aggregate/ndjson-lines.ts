/**
 * Reads an NDJSON file line by line with bounded memory (one block of whole
 * lines, grown only for a line longer than a block), validating each line
 * against a zod schema. Bad lines are
 * reported as `file:line: reason` and skipped, never turned into zeros; an
 * unterminated last line that does not parse is the mark of a crashed writer
 * and is skipped with its own warning.
 */
import { open } from "node:fs/promises";
import type { z } from "zod";

export interface Line {
  text: string;
  /** 1-based. */
  lineNo: number;
  /** False only for a last line without its newline. */
  terminated: boolean;
}

/** Bytes read per call: large reads keep system calls and block hand-offs rare. */
export const BLOCK_BYTES = 4 << 20;

/**
 * The file as blocks of whole lines: every block but possibly the last ends
 * with a newline; a last block without one ends in an unterminated line. A
 * block's memory is reused for the next one, so decode what you need before
 * asking for the next block.
 */
export async function* readLineBlocks(
  file: string,
  blockBytes = BLOCK_BYTES,
): AsyncGenerator<Buffer> {
  const handle = await open(file, "r");
  try {
    let buf = Buffer.allocUnsafe(blockBytes);
    let filled = 0;
    for (;;) {
      if (filled === buf.length) {
        // One line longer than the block: grow until it fits.
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, 0, filled);
        buf = grown;
      }
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) {
        if (filled > 0) yield buf.subarray(0, filled);
        return;
      }
      filled += bytesRead;
      const used = buf.lastIndexOf(10, filled - 1) + 1;
      if (used === 0) continue; // no line ends yet: read on
      yield buf.subarray(0, used);
      buf.copy(buf, 0, used, filled);
      filled -= used;
    }
  } finally {
    await handle.close();
  }
}

export async function* readLines(file: string, blockBytes = BLOCK_BYTES): AsyncGenerator<Line> {
  let lineNo = 0;
  for await (const block of readLineBlocks(file, blockBytes)) {
    let start = 0;
    while (start < block.length) {
      const newline = block.indexOf(10, start);
      const end = newline === -1 ? block.length : newline;
      lineNo++;
      yield { text: block.toString("utf8", start, end), lineNo, terminated: newline !== -1 };
      start = end + 1;
    }
  }
}

export type Warn = (message: string) => void;

/**
 * `line` checked with JSON.parse and `schema`: the parsed value, or undefined
 * after a `file:line: reason` warning (nothing for a blank line).
 */
export function parseLine<S extends z.ZodType>(
  line: Line,
  schema: S,
  file: string,
  warn: Warn,
): z.infer<S> | undefined {
  const { text, lineNo, terminated } = line;
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!terminated) warn(`${file}:${lineNo}: truncated last line skipped (a crashed run?)`);
    else warn(`${file}:${lineNo}: not JSON (${(error as Error).message}); line skipped`);
    return undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    warn(`${file}:${lineNo}: ${field}${issue?.message ?? "invalid"}; line skipped`);
    return undefined;
  }
  return parsed.data;
}

/** Every valid row of `file`, in order, with its line number. */
export async function* readNdjson<S extends z.ZodType>(
  file: string,
  schema: S,
  warn: Warn,
): AsyncGenerator<{ row: z.infer<S>; lineNo: number }> {
  for await (const line of readLines(file)) {
    const row = parseLine(line, schema, file, warn);
    if (row !== undefined) yield { row, lineNo: line.lineNo };
  }
}
