import { open } from "node:fs/promises";

/**
 * The last `lines` lines of a (possibly large) log file, reading at most the
 * final 64 KiB: enough to show why a server died without loading the whole log.
 */
export async function tailLines(path: string, lines = 20): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer.toString("utf8").replace(/\s+$/, "");
    if (text === "") return [];
    return text.split(/\r?\n/).slice(-lines);
  } catch {
    return [];
  } finally {
    await handle?.close();
  }
}
