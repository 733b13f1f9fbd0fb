/**
 * A process's identity beyond its pid: the kernel's start time of the process
 * (field 22 of /proc/<pid>/stat, clock ticks since boot). Pids are reused; a
 * pid with the start time we recorded is the process we started, so a record
 * left by a killed runner can be acted on without ever signalling a stranger.
 */
import { readFileSync } from "node:fs";

/** Start time of `pid` in clock ticks since boot; null when it is gone or there is no /proc. */
export function processStartTicks(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // Field 2 is the command in parentheses and may itself hold spaces and ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[19]);
  return Number.isInteger(ticks) ? ticks : null;
}

/** True while `pid` runs and is the process that had `startTicks`. */
export function isSameProcess(pid: number, startTicks: number): boolean {
  return processStartTicks(pid) === startTicks;
}
