/**
 * Server profiles per experiment (`load.profile: {at, for}`), the same for
 * `kind: vllm` and the simulator:
 *
 * - Each server process of a group gets its own folder,
 *   `raw/<campaign>/_profiles/<group>/server-<start ms>/`, and the profilers'
 *   variables point into it (VLLM_TORCH_PROFILER_DIR, VLLM_PROFILING_DIR of
 *   profilemate, VLLM_STEP_STATS_DIR of the seed-000 patch).
 * - During an experiment, `POST /start_profile` at window start + `at` and
 *   `POST /stop_profile` after `for` (vllm/entrypoints/serve/profile/api_router.py);
 *   the traces written meanwhile are renamed into the experiment's `profiles/`.
 * - profilemate sessions and step CSVs are written when the server stops. If that
 *   server ran one experiment they move into its `profiles/` whole. If it ran
 *   several, they stay in the server's folder with `covers.json` naming the
 *   experiments, and each experiment's `profiles/` gets the session cut to its
 *   window: every timestamped CSV's rows whose time (metadata.json `start_time` +
 *   `timestamp_sec`, or `started_sec` for request lifecycles) falls in the window,
 *   and metadata.json with a `vscale_slice` key. The summaries describe the whole
 *   session, so a slice has none; a step CSV is cut by its `timestamp_sec` column when it
 *   has one (the simulator writes it; the seed's patch does not, and its files stay whole).
 *
 * Missing or unreadable profiles are notes (warnings), never failures.
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempPathFor, writeJsonAtomic } from "../common/atomic-write.ts";
import {
  experimentDir,
  PROFILER_DIRS,
  PROFILES_DIR,
  PROFILES_STAGING_DIR,
  type ProfileCover,
} from "../formats/raw-layout.ts";

export interface ProfileDirs {
  root: string;
  torch: string;
  profilemate: string;
  steps: string;
}

export interface ProfileSlice {
  atMs: number;
  forMs: number;
}

/** Fresh folders for one server process of `groupId`, and the environment that points at them. */
export async function createProfileDirs(
  campaignDir: string,
  groupId: string,
): Promise<{ dirs: ProfileDirs; env: Record<string, string> }> {
  const root = join(campaignDir, PROFILES_STAGING_DIR, groupId, `server-${Date.now()}`);
  const dirs: ProfileDirs = {
    root,
    torch: join(root, PROFILER_DIRS.VLLM_TORCH_PROFILER_DIR),
    profilemate: join(root, PROFILER_DIRS.VLLM_PROFILING_DIR),
    steps: join(root, PROFILER_DIRS.VLLM_STEP_STATS_DIR),
  };
  for (const dir of [dirs.torch, dirs.profilemate, dirs.steps])
    await mkdir(dir, { recursive: true });
  return {
    dirs,
    env: {
      VLLM_TORCH_PROFILER_DIR: dirs.torch,
      VLLM_PROFILING_DIR: dirs.profilemate,
      VLLM_STEP_STATS_DIR: dirs.steps,
    },
  };
}

/** Entries a writer has finished: temporaries are dot-named (common/atomic-write.ts). */
async function finished(dir: string, kind: "file" | "dir"): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.name.startsWith(".") && (kind === "file" ? e.isFile() : e.isDirectory()))
    .map((e) => e.name)
    .sort();
}

/** rename(2) each entry into `toDir` (same filesystem: atomic). */
async function moveAll(fromDir: string, names: readonly string[], toDir: string): Promise<void> {
  if (names.length === 0) return;
  await mkdir(toDir, { recursive: true });
  for (const name of names) await rename(join(fromDir, name), join(toDir, name));
}

async function post(url: string, path: string, apiKey: string | undefined, timeoutMs: number) {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: apiKey !== undefined ? { authorization: `Bearer ${apiKey}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}`);
}

/**
 * vLLM flushes its traces before `/stop_profile` answers, which its docs say can take
 * minutes for a large model (they advise raising VLLM_RPC_TIMEOUT): wait that long.
 */
export const STOP_PROFILE_TIMEOUT_MS = 10 * 60_000;
const START_PROFILE_TIMEOUT_MS = 60_000;

export interface TraceCapture {
  /** Stop the profiler if it runs, move the traces; the notes say what went wrong. */
  finish(): Promise<string[]>;
}

/**
 * Start the torch profiler `delayMs + slice.atMs` from now (the load engine opens the window
 * `delayMs` after it starts) and stop it `slice.forMs` later.
 */
export function captureTraceSlice(opts: {
  url: string;
  apiKey: string | undefined;
  slice: ProfileSlice;
  delayMs: number;
  dirs: ProfileDirs;
  experimentDir: string;
}): TraceCapture {
  const notes: string[] = [];
  let started: Promise<boolean> | undefined;
  let stopped: Promise<void> | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (stopTimer) clearTimeout(stopTimer);
    stopped ??= post(opts.url, "/stop_profile", opts.apiKey, STOP_PROFILE_TIMEOUT_MS).catch(
      (error: unknown) => {
        notes.push(`stop_profile failed: ${(error as Error).message}`);
      },
    );
    return stopped;
  };
  const startTimer = setTimeout(() => {
    started = post(opts.url, "/start_profile", opts.apiKey, START_PROFILE_TIMEOUT_MS).then(
      () => {
        stopTimer = setTimeout(() => void stop(), opts.slice.forMs);
        return true;
      },
      (error: unknown) => {
        notes.push(`start_profile failed: ${(error as Error).message}`);
        return false;
      },
    );
  }, opts.delayMs + opts.slice.atMs);
  return {
    async finish() {
      clearTimeout(startTimer);
      if (!started) {
        notes.push("the window ended before the profile slice began: no trace");
        return notes;
      }
      if (await started) await stop();
      const traces = await finished(opts.dirs.torch, "file");
      if (traces.length === 0 && (await started)) notes.push("the server wrote no trace");
      await moveAll(opts.dirs.torch, traces, join(opts.experimentDir, PROFILES_DIR));
      return notes;
    },
  };
}

export interface RanExperiment {
  experimentId: string;
  windowStartUs: number | null;
  windowEndUs: number | null;
}

/** Column whose time places a row in a window, per timestamped profilemate CSV. */
function timeColumn(header: string): number {
  const names = header.split(",").map((n) => n.trim());
  const at = names.indexOf("timestamp_sec");
  return at !== -1 ? at : names.indexOf("started_sec");
}

/** Rows of a CSV (no quoted newlines in profilemate's files) whose time is in [from, to) µs. */
export function sliceCsv(
  text: string,
  startS: number,
  fromUs: number,
  toUs: number,
): string | null {
  const lines = text.split("\n");
  const header = lines[0] ?? "";
  const column = timeColumn(header);
  if (column === -1) return null;
  const kept = [header];
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    // The time columns come first (or after a request id), before any quoted free text.
    const cell = line.split(",", column + 1)[column] ?? "";
    const t = Number(cell);
    if (cell.trim() === "" || !Number.isFinite(t)) continue;
    const us = (startS + t) * 1e6;
    if (us >= fromUs && us < toUs) kept.push(line);
  }
  return `${kept.join("\n")}\n`;
}

async function sliceSession(
  session: string,
  target: string,
  ran: RanExperiment,
  notes: string[],
): Promise<void> {
  let metadata: Record<string, unknown>;
  try {
    metadata = JSON.parse(await readFile(join(session, "metadata.json"), "utf8")) as Record<
      string,
      unknown
    >;
  } catch (error) {
    notes.push(`${session}: no readable metadata.json (${(error as Error).message}): not cut`);
    return;
  }
  const startS = metadata.start_time;
  if (typeof startS !== "number" || ran.windowStartUs === null || ran.windowEndUs === null) {
    notes.push(`${session}: no start_time or no window for ${ran.experimentId}: not cut`);
    return;
  }
  const tmp = tempPathFor(target);
  await mkdir(tmp, { recursive: true });
  try {
    for (const name of await finished(session, "file")) {
      if (!name.endsWith(".csv")) continue;
      const cut = sliceCsv(
        await readFile(join(session, name), "utf8"),
        startS,
        ran.windowStartUs,
        ran.windowEndUs,
      );
      if (cut !== null) await writeFile(join(tmp, name), cut);
    }
    const slice = {
      experiment_id: ran.experimentId,
      window_start_us: ran.windowStartUs,
      window_end_us: ran.windowEndUs,
      whole_session: session,
    };
    await writeFile(
      join(tmp, "metadata.json"),
      `${JSON.stringify({ ...metadata, vscale_slice: slice }, null, 2)}\n`,
    );
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * After a server process stopped: its profilemate sessions and step CSVs go to the one
 * experiment it ran, or stay with `covers.json` and are cut per experiment window.
 */
export async function collectServerProfiles(opts: {
  resultsDir: string;
  campaign: string;
  groupId: string;
  dirs: ProfileDirs;
  ran: readonly RanExperiment[];
}): Promise<string[]> {
  const { dirs, ran } = opts;
  const notes: string[] = [];
  const sessions = await finished(dirs.profilemate, "dir");
  const stepCsvs = await finished(dirs.steps, "file");
  const expDir = (id: string) =>
    join(experimentDir(opts.resultsDir, opts.campaign, id), PROFILES_DIR);
  if (ran.length > 0 && sessions.length + stepCsvs.length === 0) {
    notes.push(
      `server ${opts.groupId}: no profilemate session or step CSV (a server that did not stop cleanly, or no profiler installed)`,
    );
  }
  const only = ran.length === 1 ? (ran[0] as RanExperiment) : undefined;
  if (only) {
    await moveAll(dirs.profilemate, sessions, expDir(only.experimentId));
    await moveAll(dirs.steps, stepCsvs, expDir(only.experimentId));
  } else if (ran.length > 1) {
    const cover: ProfileCover = {
      group_id: opts.groupId,
      experiments: ran.map((r) => ({
        experiment_id: r.experimentId,
        window_start_us: r.windowStartUs,
        window_end_us: r.windowEndUs,
      })),
    };
    await writeJsonAtomic(join(dirs.root, "covers.json"), cover);
    // Step CSVs with a `timestamp_sec` column (Unix seconds: the simulator's) are cut per
    // window too; the seed's own files have no time column and stay whole with covers.json.
    for (const name of stepCsvs) {
      const text = await readFile(join(dirs.steps, name), "utf8");
      for (const r of ran) {
        if (r.windowStartUs === null || r.windowEndUs === null) continue;
        const cut = sliceCsv(text, 0, r.windowStartUs, r.windowEndUs);
        if (cut === null) {
          notes.push(`${name}: no timestamp_sec column: not cut per experiment`);
          break;
        }
        const target = join(expDir(r.experimentId), name);
        await mkdir(expDir(r.experimentId), { recursive: true });
        const tmp = tempPathFor(target);
        await writeFile(tmp, cut);
        await rename(tmp, target);
      }
    }
    for (const name of sessions) {
      for (const r of ran) {
        try {
          await sliceSession(
            join(dirs.profilemate, name),
            join(expDir(r.experimentId), name),
            r,
            notes,
          );
        } catch (error) {
          notes.push(`${name}: cannot cut for ${r.experimentId}: ${(error as Error).message}`);
        }
      }
    }
  }
  // Empty folders of a server that wrote nothing go; anything left stays for a look.
  for (const dir of [dirs.torch, dirs.profilemate, dirs.steps, dirs.root]) {
    await rmdir(dir).catch(() => {});
  }
  return notes;
}
