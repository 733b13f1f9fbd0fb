/**
 * On every start, stop the servers an earlier run left behind: a runner
 * killed with SIGKILL (or a crashed terminal) cannot stop its servers, and
 * their records in `_servers/*.json` still say `stopped_at: null`. Such a
 * server would hold a fixed port ("port in use") and the GPUs. A recorded
 * start is acted on only when the record proves the process is ours: the
 * leader's pid with the start time we recorded, or, once the leader is gone,
 * workers still in its process group (Linux never hands out a pid that is
 * some live group's id, so that group is the one we made). A live runner's
 * servers are left alone.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { SERVERS_DIR } from "../formats/raw-layout.ts";
import { ServerRecordWriter } from "../formats/server-record.ts";
import { isSameProcess, processStartTicks } from "./proc-start.ts";
import { groupAlive, stopGroupByPid } from "./process-group.ts";

export interface ReapNote {
  groupId: string;
  pid: number;
  action: "reaped" | "gone" | "pid-reused" | "runner-alive" | "unverifiable";
  line: string;
}

const now = () => new Date().toISOString();

export async function reapOrphans(campaignDir: string, graceMs: number): Promise<ReapNote[]> {
  const dir = join(campaignDir, SERVERS_DIR);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  const notes: ReapNote[] = [];
  for (const name of names.sort()) {
    const groupId = name.slice(0, -".json".length);
    const record = await ServerRecordWriter.open(join(dir, name), groupId, "sim");
    for (const [i, start] of record.starts.entries()) {
      if (start.pid === null || start.stopped_at !== null) continue;
      const pid = start.pid;
      const note = (action: ReapNote["action"], line: string) =>
        notes.push({ groupId, pid, action, line: `server ${groupId} (pid ${pid}): ${line}` });
      const runnerTicks = start.runner_start_ticks;
      if (
        start.runner_pid !== undefined &&
        typeof runnerTicks === "number" &&
        start.runner_pid !== process.pid &&
        isSameProcess(start.runner_pid, runnerTicks)
      ) {
        note("runner-alive", `its campaign (pid ${start.runner_pid}) is still running; left alone`);
        continue;
      }
      const ticks = start.start_ticks;
      const leaderTicks = processStartTicks(pid);
      const leaderIsOurs = typeof ticks === "number" && leaderTicks === ticks;
      const workersLeft = leaderTicks === null && groupAlive(pid);
      if (leaderIsOurs || workersLeft) {
        const exit = await stopGroupByPid(pid, graceMs);
        await record.update(i, {
          stopped_at: now(),
          exit_signal: exit,
          reason: "reaped: left running by an earlier run",
        });
        note("reaped", "left running by an earlier run; stopped");
      } else if (leaderTicks === null) {
        await record.update(i, {
          stopped_at: now(),
          reason: "gone: its runner died before stopping it",
        });
        note("gone", "no longer running");
      } else if (typeof ticks === "number") {
        await record.update(i, {
          stopped_at: now(),
          reason: "gone: its pid now belongs to another process",
        });
        note("pid-reused", "its pid belongs to another process now; left alone");
      } else {
        note(
          "unverifiable",
          "recorded without a start time (older vscale, or no /proc): not touched",
        );
      }
    }
  }
  return notes;
}
