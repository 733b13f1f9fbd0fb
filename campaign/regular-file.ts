/**
 * Opening the files a campaign reads without ever blocking. open(2) of a FIFO
 * for reading waits for a writer, inside a libuv pool thread that nothing can
 * interrupt, and Node's exit joins that thread: one `prompts: {file: a-fifo}`
 * used to hang the runner for good, SIGTERM included. O_NONBLOCK makes the open
 * return at once (it changes nothing for regular files), and fstat on the
 * open descriptor then says what the path really is, without a race.
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { DataError } from "../common/errors.ts";

function kindOf(stats: Awaited<ReturnType<FileHandle["stat"]>>): string {
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Opens `path` for reading; throws a DataError naming it unless it is a regular file. */
export async function openRegularFile(path: string, field?: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new DataError(`cannot open: ${(error as NodeJS.ErrnoException).code}`, {
      file: path,
      field,
    });
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new DataError(`is ${kindOf(stats)}, not a regular file`, {
      file: path,
      field,
      hint: "point it at a file of prompts",
    });
  }
  return handle;
}

/** SHA-256 of a regular file's bytes (read in chunks, so a large file costs no memory). */
export async function hashRegularFile(path: string, field?: string): Promise<string> {
  const handle = await openRegularFile(path, field);
  try {
    const hash = createHash("sha256");
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk);
    return hash.digest("hex");
  } finally {
    await handle.close();
  }
}
