/**
 * Process-level safety for the CLI: Ctrl-C / SIGTERM / SIGHUP (a closed
 * terminal) abort the campaign
 * (the running experiment becomes `interrupted`, servers are stopped); a
 * second Ctrl-C kills every server group at once and exits. Crashes of the
 * runner itself (uncaught exceptions, unhandled rejections) stop the servers
 * before exiting, and a last synchronous SIGKILL runs on any exit.
 */
import { killAllGroupsSync, stopAllGroups } from "./process-group.ts";

export interface InterruptState {
  controller: AbortController;
  /** The signal that interrupted us, if any: decides the exit code (130 for SIGINT). */
  received(): NodeJS.Signals | undefined;
  uninstall(): void;
}

/** The signals that stop a campaign; SIGHUP is what closing its terminal sends. */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** 128 + the signal number, as shells report a process killed by it. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === "SIGTERM" ? 143 : signal === "SIGHUP" ? 129 : 130;
}

export function installInterruptHandlers(log: (line: string) => void): InterruptState {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      log(`${signal} again: killing every server now`);
      killAllGroupsSync();
      process.exit(exitCodeForSignal(signal));
    }
    received = signal;
    log(`${signal}: stopping the current experiment and the servers (again to force)`);
    controller.abort();
  };
  const onFatal = (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    void stopAllGroups(3_000).finally(() => process.exit(1));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);
  process.on("exit", killAllGroupsSync);
  return {
    controller,
    received: () => received,
    uninstall() {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      process.off("uncaughtException", onFatal);
      process.off("unhandledRejection", onFatal);
      process.off("exit", killAllGroupsSync);
    },
  };
}
