/**
 * Reads an NDJSON file line by line with bounded memory (one chunk plus one
 * partial line), validating each line against a zod schema. Bad lines are
 * reported as `file:line: reason` and skipped, never turned into zeros; an
 * unterminated last line that does not parse is the mark of a crashed writer
 * and is skipped with its own warning.
 */
import { createReadStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { z } from "zod";

export interface Line {
  text: string;
  /** 1-based. */
  lineNo: number;
  /** False only for a last line without its newline. */
  terminated: boolean;
}

export async function* readLines(file: string): AsyncGenerator<Line> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let lineNo = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      lineNo++;
      yield { text: text.slice(start, end), lineNo, terminated: true };
      start = end + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) yield { text: rest, lineNo: lineNo + 1, terminated: false };
}

export type Warn = (message: string) => void;

/** Every valid row of `file`, in order, with its line number. */
export async function* readNdjson<S extends z.ZodType>(
  file: string,
  schema: S,
  warn: Warn,
): AsyncGenerator<{ row: z.infer<S>; lineNo: number }> {
  for await (const { text, lineNo, terminated } of readLines(file)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (!terminated) warn(`${file}:${lineNo}: truncated last line skipped (a crashed run?)`);
      else warn(`${file}:${lineNo}: not JSON (${(error as Error).message}); line skipped`);
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      warn(`${file}:${lineNo}: ${field}${issue?.message ?? "invalid"}; line skipped`);
      continue;
    }
    yield { row: parsed.data, lineNo };
  }
}
