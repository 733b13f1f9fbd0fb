/**
 * Process-level safety for the CLI: Ctrl-C / SIGTERM abort the campaign
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

export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === "SIGTERM" ? 143 : 130;
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
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);
  process.on("exit", killAllGroupsSync);
  return {
    controller,
    received: () => received,
    uninstall() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      process.off("uncaughtException", onFatal);
      process.off("unhandledRejection", onFatal);
      process.off("exit", killAllGroupsSync);
    },
  };
}
