/**
 * One experiment against a running server: write experiment.json, sample
 * GPUs and server gauges while the load engine runs warm-up + window, scrape
 * /metrics just before and after the window, then write status.json last.
 * A server that exits mid-window fails the experiment (the caller restarts
 * it); an abort (Ctrl-C) marks it interrupted; a window the server froze in
 * (window-check.ts) fails it with `flags`. Never throws for a failure of
 * the experiment itself: the campaign goes on.
 */

import type { Experiment, Plan } from "../config/expand.ts";
import type { ClientGuard, Fingerprint, Status } from "../formats/raw-layout.ts";
import { firstFailure } from "../load/first-failure.ts";
import { targetCores } from "../load/node/auto-workers.ts";
import type { LiveCounters, LoadResult } from "../load/node/run.ts";
import { summarizeRequestsFile } from "../load/summary.ts";
import type { PreparedPromptSet } from "../load/workload/prompts.ts";
import type { WindowFigures } from "../stats/request-window.ts";
import { runLoadEngine } from "./engines.ts";
import type { GpuProbe } from "./gpu-sampler.ts";
import { type GpuSampler, startGpuSampler } from "./gpu-sampler.ts";
import { gpusInUse } from "./gpus-in-use.ts";
import type { StartedServer } from "./group-server.ts";
import { loadRunOptions } from "./load-options.ts";
import { tailLines } from "./log-tail.ts";
import { type GaugeSampler, scrapeMetricsTo, startGaugeSampler } from "./metrics-scraper.ts";
import {
  captureTraceSlice,
  type ProfileDirs,
  type ProfileSlice,
  type TraceCapture,
} from "./profile-capture.ts";
import { buildExperimentInfo, ExperimentWriter, promptFacts } from "./raw-writer.ts";
import { windowFlags } from "./window-check.ts";

export interface ExperimentRunInput {
  plan: Plan;
  experiment: Experiment;
  server: StartedServer;
  resultsDir: string;
  promptSet: PreparedPromptSet;
  gpu: GpuProbe;
  fingerprint: Fingerprint | undefined;
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  /** The campaign's interrupt (Ctrl-C). */
  signal?: AbortSignal;
  /** `load.profile`: where the server's torch profiler writes, and the slice to profile. */
  profile?: { dirs: ProfileDirs; slice: ProfileSlice };
  onProgress?: (counters: LiveCounters) => void;
}

export interface ExperimentRunResult {
  status: Status;
  /** The server process exited during the experiment: restart it before the next one. */
  serverExited: boolean;
  last: LiveCounters | null;
  /** Wall time of the whole experiment, and of the load engine's call (warm-up + window). */
  wallMs: number;
  loadMs: number;
  /** The saturation guard's verdict, when the engine measured it. */
  client: ClientGuard | null;
  /** The window's figures from its records (the summary's computation); null when unreadable. */
  figures: WindowFigures | null;
  /** The measured window (µs since the epoch), null when it never opened. */
  window: { startUs: number | null; endUs: number | null };
  /** Warnings about the server profiles (missing trace, failed start_profile). */
  profileNotes: string[];
}

function describeError(error: unknown): string {
  if (
    error &&
    typeof error === "object" &&
    "format" in error &&
    typeof error.format === "function"
  ) {
    return String(error.format());
  }
  return error instanceof Error ? error.message : String(error);
}

export async function runExperiment(input: ExperimentRunInput): Promise<ExperimentRunResult> {
  const t0 = performance.now();
  const { plan, experiment, server } = input;
  const writer = new ExperimentWriter(input.resultsDir, plan.campaign, experiment.id);
  await writer.reset();
  const info = buildExperimentInfo({
    plan,
    experiment,
    server: {
      kind: plan.matrix.server.kind,
      model: plan.matrix.server.model,
      argvMasked: server.argvMasked,
      envNames: server.envNames,
      url: server.url,
      version: server.version,
    },
    prompts: promptFacts(input.promptSet),
    gpus: input.gpu.gpus,
    gpuNote: input.gpu.note,
    gpusInUse: gpusInUse({
      kind: plan.matrix.server.kind,
      cudaVisibleDevices: server.cudaVisibleDevices,
      configured: plan.matrix.server.gpu_indices,
      inventory: input.gpu.gpus,
    }),
    fingerprint: input.fingerprint,
    startedAt: new Date().toISOString(),
  });
  await writer.writeInfo(info);

  // One controller stops the load engine, for either reason: Ctrl-C or a dead server.
  const stopLoad = new AbortController();
  let serverExited = false;
  let watching = true;
  const onAbort = () => stopLoad.abort();
  input.signal?.addEventListener("abort", onAbort, { once: true });
  if (input.signal?.aborted) stopLoad.abort();
  void server.exited.then(() => {
    if (!watching) return;
    serverExited = true;
    stopLoad.abort();
  });

  let gpuSampler: GpuSampler | undefined;
  let gauges: GaugeSampler | undefined;
  let windowTimer: NodeJS.Timeout | undefined;
  let windowOpening: Promise<void> | undefined;
  let windowError: unknown;
  let last: LiveCounters | null = null;
  let result: LoadResult | undefined;
  let loadError: unknown;
  const tLoad = performance.now();
  let loadMs = 0;
  let scrapedBefore = false;
  let scrapedAfter = false;
  let traces: TraceCapture | undefined;
  try {
    if (input.gpu.exe) {
      gpuSampler = await startGpuSampler({
        exe: input.gpu.exe,
        outFile: writer.path("gpu"),
        env: input.env,
      });
    }
    // The "before" scrape belongs at the start of the measured window, after warm-up.
    const openWindow = async () => {
      scrapedBefore = await scrapeMetricsTo(server.url, writer.path("metricsBefore"), input.apiKey);
      gauges = startGaugeSampler({
        url: server.url,
        outFile: writer.path("metricsSamples"),
        apiKey: input.apiKey,
      });
    };
    if (experiment.load.warmup === 0) await openWindow();
    else {
      windowTimer = setTimeout(() => {
        // Handled at once: a failed scrape fails this experiment, never the whole campaign.
        windowOpening = openWindow().catch((error: unknown) => {
          windowError = error;
        });
      }, experiment.load.warmup);
    }
    const options = loadRunOptions({
      experiment,
      url: server.url,
      model: plan.matrix.server.model,
      promptSet: input.promptSet,
      outFile: writer.path("requests"),
      apiKey: input.apiKey,
      targetCores: targetCores(
        plan.matrix.server.kind,
        typeof experiment.factors.dp === "number" ? experiment.factors.dp : 1,
      ),
    });
    info.load = { ...info.load, workers: options.workers ?? 1 };
    if (input.profile) {
      // The window opens `warmup` after the engine starts (as the scrape above).
      traces = captureTraceSlice({
        url: server.url,
        apiKey: input.apiKey,
        slice: input.profile.slice,
        delayMs: experiment.load.warmup,
        dirs: input.profile.dirs,
        experimentDir: writer.dir,
      });
    }
    const tStart = performance.now();
    result = await runLoadEngine(experiment.load.engine, {
      ...options,
      signal: stopLoad.signal,
      onProgress: (c) => {
        last = c;
        input.onProgress?.(c);
      },
      summaryFile: writer.path("k6Summary"),
      k6Sse: experiment.load.k6_sse,
    });
    loadMs = performance.now() - tStart;
    last = result.counters;
  } catch (error) {
    loadError = error;
    loadMs = performance.now() - tLoad;
  } finally {
    watching = false;
    input.signal?.removeEventListener("abort", onAbort);
    if (windowTimer) clearTimeout(windowTimer);
  }
  // Settled either way: the sampler must be stopped below if it started.
  await windowOpening;
  if (!serverExited && gauges) {
    scrapedAfter = await scrapeMetricsTo(server.url, writer.path("metricsAfter"), input.apiKey);
  }
  await gauges?.stop();
  await gpuSampler?.stop();
  const profileNotes =
    (await traces?.finish().catch((e: unknown) => [`traces: ${(e as Error).message}`])) ?? [];
  const flags = windowFlags({
    load: experiment.load,
    ranMs: loadMs,
    completed: result !== undefined && !result.interrupted,
    scrapedBefore,
    scrapedAfter,
  });

  let status: Status["status"] = "ok";
  let reason: string | null = null;
  if (serverExited) {
    const exit = server.exitInfo();
    const how = exit?.signal ? `was killed by ${exit.signal}` : `exited with code ${exit?.code}`;
    const log = server.logFile ? await tailLines(server.logFile, 5) : [];
    status = "failed";
    reason = `server ${how} during the experiment${log.length ? `; log: ${log.join(" | ")}` : ""}`;
  } else if (input.signal?.aborted) {
    status = "interrupted";
    reason = "interrupted (SIGINT, SIGTERM or SIGHUP)";
  } else if (loadError !== undefined) {
    status = "failed";
    reason = `load engine failed: ${describeError(loadError)}`;
  } else if (windowError !== undefined) {
    status = "failed";
    reason = `could not record /metrics at the window's start: ${describeError(windowError)}`;
  } else if (result && result.counters.completed === 0) {
    status = "failed";
    const first = await firstFailure(writer.path("requests"));
    reason = `no request succeeded (${result.counters.failed} failed${first ? `; first: ${first}` : ""})`;
  } else if (flags.length > 0) {
    status = "failed";
    reason = `the server stalled: ${flags.join("; ")}`;
  }

  info.times = {
    ...info.times,
    warmup_start_us: result?.warmupStartUs ?? null,
    window_start_us: result?.windowStartUs ?? null,
    window_end_us: result?.windowEndUs ?? null,
    finished_at: new Date().toISOString(),
  };
  // The saturation guard, for aggregation's client_* columns (load/client-guard.ts).
  if (result?.client) info.client = result.client;
  await writer.writeInfo(info);
  const written = await writer.writeStatus({
    status,
    reason,
    requests: result?.records ?? 0,
    flags,
  });
  // The console's figures are the summary's: the same records through the same computation.
  const figures = result
    ? await summarizeRequestsFile(
        writer.path("requests"),
        result.windowStartUs,
        result.windowEndUs,
      ).catch(() => null)
    : null;
  return {
    status: written,
    serverExited,
    last,
    figures,
    wallMs: performance.now() - t0,
    loadMs,
    client: result?.client ?? null,
    window: { startUs: result?.windowStartUs ?? null, endUs: result?.windowEndUs ?? null },
    profileNotes,
  };
}
