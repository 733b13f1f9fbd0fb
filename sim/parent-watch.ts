/**
 * A simulator started by a campaign dies with it. The runner names itself in
 * VSCALE_PARENT_PID; once our parent is another process (the runner was killed,
 * even by SIGKILL, and we were re-parented to init or a subreaper), we stop.
 * Polling getppid is the portable way: Linux's parent-death signal needs
 * prctl, which Node does not expose. Run by hand, the variable is unset and
 * nothing is watched.
 */
export const PARENT_PID_ENV = "VSCALE_PARENT_PID";

/** Calls `onOrphaned` once when the parent named in `env` is gone; returns a stop function. */
export function watchParent(
  env: NodeJS.ProcessEnv,
  onOrphaned: () => void,
  intervalMs = 500,
): () => void {
  const expected = Number(env[PARENT_PID_ENV]);
  if (!Number.isInteger(expected) || expected <= 0) return () => {};
  const timer = setInterval(() => {
    if (process.ppid === expected) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
