/**
 * The folders an embedded DuckDB works in (`duck.ts`: its spill files and
 * our staged request records), named `vscale-duckdb-<pid>-<random>` in the
 * OS temp dir. An aggregation that is killed cannot remove its own, so the
 * next engine to open removes those whose process is gone — as
 * `leftover-temps.ts` does for agg/ — and never one of a live process.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { alive } from "./leftover-temps.ts";

export const ENGINE_DIR_PREFIX = "vscale-duckdb-";

const ENGINE_DIR = new RegExp(`^${ENGINE_DIR_PREFIX}(\\d+)-[^/]+$`);

/** The pid in an engine folder's name; null for other names. */
export function engineDirPid(name: string): number | null {
  const m = ENGINE_DIR.exec(name);
  return m ? Number(m[1]) : null;
}

/** Removes the engine folders of dead processes in `tmp`; returns the paths removed. */
export async function removeDeadEngineDirs(tmp: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(tmp);
  } catch {
    return removed; // no temp dir to tidy: mkdtemp will say what is wrong
  }
  for (const name of names) {
    const pid = engineDirPid(name);
    // Our own pid: another engine of this process may be open (a test, `fit`).
    if (pid === null || pid === process.pid || alive(pid)) continue;
    const dir = join(tmp, name);
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
