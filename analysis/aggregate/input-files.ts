/**
 * What aggregation checks before it opens a raw input: that it exists, is a
 * plain file (a directory named `requests.ndjson` would crash a reader), and,
 * for files read whole into memory, that it is under an explicit size limit,
 * so a huge or runaway file gets a one-line warning instead of an
 * out-of-memory abort.
 */
import { readFile, stat } from "node:fs/promises";
import type { Warn } from "./ndjson-lines.ts";

/**
 * Files read whole (gpu.csv, the /metrics scrapes, profile CSVs): a scrape is
 * kilobytes and a long campaign's gpu.csv a few MiB, so 256 MiB is far above
 * any real one and well below what a 2-core laptop can hold as a string.
 */
export const MAX_WHOLE_FILE_BYTES = 256 << 20;

const MIB = 1 << 20;

/** For messages: `256 MiB`, `1.2 KiB`. */
export function formatBytes(bytes: number): string {
  return bytes >= MIB ? `${Math.round(bytes / MIB)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * Why `file` cannot be read: "missing", another reason, or null when it is a
 * plain file (within `maxBytes` when given).
 */
export async function inputFileProblem(
  file: string,
  maxBytes?: { bytes: number; name: string },
): Promise<string | null> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "missing" : `cannot be read (${code ?? String(error)})`;
  }
  if (info.isDirectory()) return "is a directory, not a file";
  if (!info.isFile()) return "is not a regular file";
  if (maxBytes && info.size > maxBytes.bytes) {
    return `is ${formatBytes(info.size)}, over the ${formatBytes(maxBytes.bytes)} limit (${maxBytes.name})`;
  }
  return null;
}

/**
 * The text of an optional input read whole, or null: silently when it is
 * absent (an optional file), after a `file: reason; <consequence>` warning
 * when it is there but unusable.
 */
export async function readOptionalText(
  file: string,
  consequence: string,
  warn: Warn,
): Promise<string | null> {
  return (await isReadableOptional(file, consequence, warn)) ? readFile(file, "utf8") : null;
}

/** Whether an optional input read whole is there and usable; warns as readOptionalText. */
export async function isReadableOptional(
  file: string,
  consequence: string,
  warn: Warn,
): Promise<boolean> {
  const problem = await inputFileProblem(file, {
    bytes: MAX_WHOLE_FILE_BYTES,
    name: "MAX_WHOLE_FILE_BYTES",
  });
  if (problem !== null && problem !== "missing") warn(`${file}: ${problem}; ${consequence}`);
  return problem === null;
}
