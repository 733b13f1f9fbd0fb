/**
 * One server group's server: resolve its argv and environment, start it in
 * its own process group, wait until healthy, and stop it again. `kind:
 * external` starts nothing and only checks the URL.
 */
import { createServer } from "node:net";
import { ConfigError, ServerError } from "../common/errors.ts";
import { freePort } from "../common/free-port.ts";
import { runtimeArgv, type ServerGroup } from "../config/expand.ts";
import { ServerRecordWriter, serverFiles } from "../formats/server-record.ts";
import { PARENT_PID_ENV } from "../sim/parent-watch.ts";
import { serverVersion, waitHealthy } from "./health.ts";
import { tailLines } from "./log-tail.ts";
import { VSCALE_BIN } from "./paths.ts";
import { processStartTicks } from "./proc-start.ts";
import { type ExitInfo, type GroupProcess, spawnGroup } from "./process-group.ts";

export interface StartedServer {
  groupId: string;
  url: string;
  version: string | null;
  /** argv as stored: secrets masked. */
  argvMasked: string[];
  envNames: string[];
  /** CUDA_VISIBLE_DEVICES as the server process got it (undefined: unset, or nothing started). */
  cudaVisibleDevices: string | undefined;
  pid: number | null;
  port: number | null;
  /** Resolves if the process exits; never for external servers. */
  exited: Promise<ExitInfo>;
  exitInfo(): ExitInfo | undefined;
  logFile: string | null;
  /** Stop the process group (SIGTERM, wait, SIGKILL) and record why. */
  stop(reason: string): Promise<void>;
}

export interface StartGroupOptions {
  /** `<results>/raw/<campaign>`: the server log and record go to `_servers/` under it. */
  campaignDir: string;
  apiKey?: string;
  /** The runner's environment, for `${NAME}` references (default process.env). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** How long to wait after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** Set for this process on top of the group's env (the profilers' folders). */
  extraEnv?: Record<string, string>;
}

/** `${NAME}` values copied from the runner's environment; a missing one is a ConfigError. */
export function resolveGroupEnv(
  group: ServerGroup,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(group.env)) {
    const ref = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value);
    if (!ref) {
      out[name] = value;
      continue;
    }
    const from = ref[1] as string;
    const copied = env[from];
    if (copied === undefined) {
      throw new ConfigError(`environment variable ${from} is not set`, {
        field: `server.env.${name}`,
        hint: `export ${from}=… before running the campaign`,
      });
    }
    out[name] = copied;
  }
  return out;
}

/** `vscale …` (the simulator's default command) runs through this very CLI. */
export function executableArgv(group: ServerGroup, argv: string[]): string[] {
  if (group.kind === "sim" && argv[0] === "vscale") {
    return [process.execPath, VSCALE_BIN, ...argv.slice(1)];
  }
  return argv;
}

/** A fixed port already taken would make us benchmark whatever listens there. */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new ServerError(`port ${port} on ${host} is already in use (${error.code})`, {
          field: "server.port",
          hint: "stop what listens there, or use port: auto",
        }),
      );
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolveFree()));
  });
}

const now = () => new Date().toISOString();

export async function startGroupServer(
  group: ServerGroup,
  options: StartGroupOptions,
): Promise<StartedServer> {
  const files = serverFiles(options.campaignDir, group.id);
  const record = await ServerRecordWriter.open(files.json, group.id, group.kind);
  const envNames = Object.keys(group.env).sort();

  if (group.kind === "external") {
    const url = (group.url ?? "").replace(/\/+$/, "");
    await record.add({
      pid: null,
      port: null,
      url,
      argv: [],
      env_names: [],
      started_at: now(),
      healthy_at: null,
      stopped_at: null,
      exit_code: null,
      exit_signal: null,
      reason: null,
    });
    try {
      await waitHealthy({
        url,
        model: group.model,
        timeoutMs: group.healthTimeoutMs,
        apiKey: options.apiKey,
        signal: options.signal,
      });
    } catch (error) {
      await record.updateLast({ stopped_at: now(), reason: "unhealthy" });
      throw error;
    }
    await record.updateLast({ healthy_at: now() });
    return {
      groupId: group.id,
      url,
      version: await serverVersion(url, options.apiKey),
      argvMasked: [],
      envNames: [],
      cudaVisibleDevices: undefined,
      pid: null,
      port: null,
      exited: new Promise<ExitInfo>(() => {}),
      exitInfo: () => undefined,
      logFile: null,
      stop: async (reason) => {
        await record.updateLast({ stopped_at: now(), reason });
      },
    };
  }

  const env: NodeJS.ProcessEnv = {
    ...(options.env ?? process.env),
    ...resolveGroupEnv(group, options.env ?? process.env),
    ...options.extraEnv,
  };
  // vLLM and the simulator both read the key from VLLM_API_KEY (vllm/envs.py): the
  // environment, unlike argv, is not world-readable through `ps` or /proc/<pid>/cmdline.
  if (options.apiKey !== undefined) env.VLLM_API_KEY = options.apiKey;
  // The simulator exits when its parent is no longer this runner (cli/sim.ts).
  env[PARENT_PID_ENV] = String(process.pid);
  const port = group.port === "auto" ? await freePort(group.host) : group.port;
  if (group.port !== "auto") await assertPortFree(group.host, port);
  const { argv, masked } = runtimeArgv(group, { port, apiKey: options.apiKey });
  const url = `http://${group.host.includes(":") ? `[${group.host}]` : group.host}:${port}`;
  const proc: GroupProcess = await spawnGroup({
    argv: executableArgv(group, argv),
    env,
    logFile: files.log,
  });
  await record.add({
    pid: proc.pid,
    port,
    url,
    argv: masked,
    env_names: envNames,
    started_at: now(),
    healthy_at: null,
    stopped_at: null,
    exit_code: null,
    exit_signal: null,
    reason: null,
    start_ticks: proc.startTicks,
    runner_pid: process.pid,
    runner_start_ticks: processStartTicks(process.pid),
  });
  const stop = async (reason: string) => {
    const exit = await proc.stop(options.stopGraceMs);
    await record.updateLast({
      stopped_at: now(),
      exit_code: exit.code,
      exit_signal: exit.signal,
      reason,
    });
  };
  try {
    await waitHealthy({
      url,
      model: group.model,
      timeoutMs: group.healthTimeoutMs,
      apiKey: options.apiKey,
      exited: proc.exited,
      logTail: () => tailLines(files.log, 15),
      signal: options.signal,
    });
  } catch (error) {
    await stop(options.signal?.aborted ? "interrupted" : "unhealthy");
    throw error;
  }
  await record.updateLast({ healthy_at: now() });
  return {
    groupId: group.id,
    url,
    version: await serverVersion(url, options.apiKey),
    argvMasked: masked,
    envNames,
    cudaVisibleDevices: env.CUDA_VISIBLE_DEVICES,
    pid: proc.pid,
    port,
    exited: proc.exited,
    exitInfo: () => proc.exitInfo(),
    logFile: files.log,
    stop,
  };
}
