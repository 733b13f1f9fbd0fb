/**
 * Processes started in their own process group, so one signal reaches the
 * server and every worker it forked (vLLM starts one per GPU). A registry of
 * the groups still alive lets signal and crash handlers stop them all: no
 * orphans, ever.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { ServerError } from "../common/errors.ts";
import { findExecutable } from "./gpu-sampler.ts";
import { processStartTicks } from "./proc-start.ts";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GroupProcess {
  /** Also the process group id. */
  readonly pid: number;
  /** The leader's start time (proc-start.ts), recorded so a later run can recognise it. */
  readonly startTicks: number | null;
  /** Resolves when the group leader exits (by itself or because we stopped it). */
  readonly exited: Promise<ExitInfo>;
  /** The leader's exit, once it happened. */
  exitInfo(): ExitInfo | undefined;
  /** SIGTERM to the group, wait up to `graceMs`, then SIGKILL; resolves when the group is gone. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

export interface SpawnGroupOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
}

const live = new Map<number, GroupProcess>();

export const DEFAULT_STOP_GRACE_MS = 10_000;

/** True while any process of group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until the group has no process left, or `ms` passed; true when gone. */
async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Stop a group we no longer hold a handle to (one left by an earlier run):
 * SIGTERM, up to `graceMs`, then SIGKILL. Resolves with the last signal sent.
 */
export async function stopGroupByPid(pgid: number, graceMs: number): Promise<NodeJS.Signals> {
  signalGroup(pgid, "SIGTERM");
  if (await waitGroupGone(pgid, graceMs)) return "SIGTERM";
  signalGroup(pgid, "SIGKILL");
  await waitGroupGone(pgid, 5_000);
  return "SIGKILL";
}

/**
 * Linux's parent-death signal, through util-linux's `setpriv --pdeathsig`
 * (Node cannot call prctl(PR_SET_PDEATHSIG) itself): the server gets SIGTERM
 * the moment the runner dies, even by SIGKILL, which no handler of ours sees.
 * setpriv execs the command, so the pid, the process group and the exit
 * status stay the server's own. Elsewhere the simulator watches its parent,
 * and the next run reaps what is left (campaign/reap.ts).
 */
function withParentDeathSignal(argv: string[]): string[] {
  const setpriv = findExecutable("setpriv");
  return setpriv ? [setpriv, "--pdeathsig", "SIGTERM", "--", ...argv] : argv;
}

/** A command that cannot be found, named before any wrapper would turn it into an exit code. */
function assertCommandExists(command: string, env: NodeJS.ProcessEnv): void {
  const found = command.includes("/")
    ? existsSync(command)
    : findExecutable(command, env.PATH ?? "");
  if (!found) {
    throw new ServerError(`command not found: ${command}`, {
      field: "server.command",
      hint: "check server.command and PATH",
    });
  }
}

/**
 * Start `argv` (never through a shell) as the leader of a new process group,
 * stdout/stderr appended to `logFile`, set to die with this process where the
 * platform allows. Resolves once the process exists; a missing executable is a
 * ServerError naming it.
 */
export async function spawnGroup(options: SpawnGroupOptions): Promise<GroupProcess> {
  const [command, ...rest] = options.argv;
  if (command === undefined) throw new ServerError("empty server command");
  assertCommandExists(command, options.env);
  const [wrapped, ...args] = withParentDeathSignal([command, ...rest]) as [string, ...string[]];
  mkdirSync(dirname(options.logFile), { recursive: true });
  const logFd = openSync(options.logFile, "a");
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(wrapped, args, {
      detached: true,
      stdio: ["ignore", logFd, logFd],
      env: options.env,
      cwd: options.cwd,
    });
    await new Promise<void>((resolveSpawn, reject) => {
      child.once("spawn", resolveSpawn);
      child.once("error", reject);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ServerError(
      code === "ENOENT" ? `command not found: ${command}` : `could not start ${command}: ${code}`,
      { field: "server.command", hint: "check server.command and PATH" },
      { cause: error },
    );
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(logFd);
  }
  const pid = child.pid as number;
  const startTicks = processStartTicks(pid);
  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once("exit", (code, signal) => {
      info = { code, signal };
      resolveExit(info);
    });
  });
  let stopping: Promise<ExitInfo> | undefined;
  const proc: GroupProcess = {
    pid,
    startTicks,
    exited,
    exitInfo: () => info,
    stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      stopping ??= (async () => {
        const deadline = Date.now() + graceMs;
        if (info === undefined) {
          signalGroup(pid, "SIGTERM");
          let timer: NodeJS.Timeout | undefined;
          const timedOut = await Promise.race([
            exited.then(() => false),
            new Promise<boolean>((r) => {
              timer = setTimeout(() => r(true), graceMs);
            }),
          ]);
          // A pending grace timer would keep the runner alive after its work is done.
          clearTimeout(timer);
          if (timedOut) signalGroup(pid, "SIGKILL");
        }
        const result = await exited;
        // Workers may outlive their leader (or a crashed leader may leave them behind).
        if (groupAlive(pid)) {
          signalGroup(pid, "SIGTERM");
          if (!(await waitGroupGone(pid, Math.max(0, deadline - Date.now())))) {
            signalGroup(pid, "SIGKILL");
            await waitGroupGone(pid, 5_000);
          }
        }
        live.delete(pid);
        return result;
      })();
      return stopping;
    },
  };
  live.set(pid, proc);
  return proc;
}

/** Stop every group still registered (signal handlers, error paths). */
export async function stopAllGroups(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
  await Promise.all([...live.values()].map((p) => p.stop(graceMs)));
}

/** Last resort for `process.on("exit")`, where nothing asynchronous runs: SIGKILL every group. */
export function killAllGroupsSync(): void {
  for (const pid of live.keys()) signalGroup(pid, "SIGKILL");
  live.clear();
}

/** Pids of the groups started and not yet stopped (for tests and diagnostics). */
export function liveGroupPids(): number[] {
  return [...live.keys()];
}
