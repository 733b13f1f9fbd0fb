/**
 * Temporary outputs (`.<table>.parquet.<pid>.<hex>.tmp`, named by
 * common/atomic-write.ts) left in agg/ by an aggregation that was killed
 * before it could rename or remove them. The next run removes those whose
 * writer is gone, and never those of a writer still running: a concurrent
 * aggregation into the same folder, in this process or another.
 */
import { readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseTempName } from "../../common/atomic-write.ts";

/** Aggregations running in this process, per output folder. */
const running = new Map<string, number>();

/** Whether process `pid` exists (ours or another user's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Marks an aggregation into `outDir` as running; call the result when it ends. */
export function claimOutDir(outDir: string): () => void {
  const key = resolve(outDir);
  running.set(key, (running.get(key) ?? 0) + 1);
  return () => {
    const n = (running.get(key) ?? 1) - 1;
    if (n === 0) running.delete(key);
    else running.set(key, n);
  };
}

/**
 * Removes the leftover temporaries of dead writers in `outDir` (call it after
 * `claimOutDir`, before writing); returns the paths removed.
 */
export async function removeLeftoverTemps(
  outDir: string,
  log: (line: string) => void,
): Promise<string[]> {
  const others = (running.get(resolve(outDir)) ?? 1) - 1;
  const removed: string[] = [];
  for (const name of await readdir(outDir)) {
    const temp = parseTempName(name);
    if (!temp || !/\.(parquet|csv)$/.test(temp.target)) continue;
    const mine = temp.pid === process.pid;
    // A pid of this process is a leftover of an earlier process that had the
    // same pid (containers reuse them) unless another aggregation here runs.
    if (mine ? others > 0 : alive(temp.pid)) continue;
    const file = join(outDir, name);
    await rm(file, { force: true });
    removed.push(file);
    log(`removed ${file}: left by an aggregation (pid ${temp.pid}) that did not finish`);
  }
  return removed;
}
