import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { asFileError, FileError } from "./errors.ts";

/**
 * A temporary path next to `target` (same directory, so rename(2) is atomic on
 * the same filesystem). Dot-prefixed so globbing readers skip it.
 */
export function tempPathFor(target: string): string {
  return join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
}

/** `.<target>.<pid>.<8 hex>.tmp`, as `tempPathFor` names it. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * The target and writer pid of a name `tempPathFor` made; null for any other
 * name. Lets a later run find the temporaries a killed writer left behind.
 */
export function parseTempName(name: string): { target: string; pid: number } | null {
  const m = TEMP_NAME.exec(name);
  return m ? { target: m[1]!, pid: Number(m[2]) } : null;
}

/** The folder `target` goes in; a file in its way is named as such (mkdir says only EEXIST). */
async function makeFolderOf(target: string): Promise<void> {
  try {
    await mkdir(dirname(target), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR")
      throw new FileError(
        `cannot write ${target}: ${dirname(target)} (or a folder above it) is a file, where a folder belongs`,
        {},
        { cause: error },
      );
    throw asFileError(error, "write", target);
  }
}

/**
 * Write a whole file atomically: readers see either the previous content or the
 * new one, never a half-written file, even if we are killed mid-write.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await makeFolderOf(target);
  const tmp = tempPathFor(target);
  try {
    const handle = await open(tmp, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw asFileError(error, "write", target);
  }
}

/**
 * Produce a file through `produce(tmpPath)` (for writers that want a path, such
 * as Parquet writers), then rename it into place. On failure the temporary file
 * is removed and the previous `target` is untouched.
 */
export async function withAtomicFile<T>(
  target: string,
  produce: (tmpPath: string) => Promise<T>,
): Promise<T> {
  await makeFolderOf(target);
  const tmp = tempPathFor(target);
  try {
    const result = await produce(tmp);
    await rename(tmp, target);
    return result;
  } catch (error) {
    await rm(tmp, { force: true });
    throw asFileError(error, "write", target);
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}
