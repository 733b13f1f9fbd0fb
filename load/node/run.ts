/**
 * The Node load engine: drives a closed- or open-loop schedule against an
 * OpenAI-compatible server through one keep-alive pool (`http1-pool.ts`), writes one
 * record per request to NDJSON as it finishes. After the window a cool-down
 * keeps the load going until every request sent in the window has ended, so
 * each is followed to its end under the window's load (the latency rule of
 * stats/request-window.ts); then what the cool-down sent is cancelled and
 * recorded. With `drain`, nothing is sent after the window and what is in
 * flight finishes.
 */
import { ConfigError } from "../../common/errors.ts";
import type { ClientGuard, WorkerLag } from "../../formats/raw-layout.ts";
import type { RequestRecord } from "../../formats/request-record.ts";
import { clientGuard } from "../client-guard.ts";
import { OpenArrivals, type OpenLoopSchedule, userStartOffsetMs } from "../workload/arrivals.ts";
import { API_PATH, buildRequestHeaders } from "../workload/bodies.ts";
import type { WorkloadParams } from "../workload/params.ts";
import type { PreparedPromptSet } from "../workload/prompts.ts";
import { buildRecord } from "../workload/record-builder.ts";
import {
  type PlannedRequest,
  planRequest,
  type RequestSlot,
  samplingOf,
} from "../workload/request-plan.ts";
import { waveSlots } from "../workload/scenarios.ts";
import { capShare, ownsSlot, type Share, WHOLE } from "../workload/share.ts";
import { type InFlightRequest, sendRequest } from "./client.ts";
import { epochUs, monotonicFromEpochMs, nowMs } from "./clock.ts";
import { GuardProbe } from "./guard-probe.ts";
import { Http1Pool } from "./http1-pool.ts";
import { type LiveCounters, LiveCounterTracker } from "./live-counters.ts";
import { NdjsonWriter } from "./ndjson-writer.ts";
import { parseTargetUrl } from "./target-url.ts";

export type { LiveCounters } from "./live-counters.ts";

export interface LoadRunOptions extends WorkloadParams {
  /** Sent as a bearer token; never written to records, logs or errors. */
  apiKey?: string;
  promptSet: PreparedPromptSet;
  /** `requests.ndjson`, streamed to its final name as records finish. */
  outFile: string;
  /** Called about four times a second. */
  onProgress?: (counters: LiveCounters) => void;
  /** Abort = SIGINT: stop cleanly, keep what was recorded. */
  signal?: AbortSignal;
  /** Run only this share of the users or arrivals (a segment, a worker); default the whole. */
  share?: Share;
  /** Start at this epoch time (ms), so workers and segments share one clock; default now. */
  startAtEpochMs?: number;
  /** Where records go instead of `outFile` (a worker hands them to its parent). */
  sink?: RecordSink;
}

/** What receives finished records (NdjsonWriter, or a worker's batcher). */
export interface RecordSink {
  write(record: RequestRecord): void;
  close(): Promise<void>;
  discard(): Promise<void>;
  readonly count: number;
}

export interface LoadResult {
  warmupStartUs: number;
  /** The measured window is [windowStartUs, windowEndUs). */
  windowStartUs: number;
  windowEndUs: number;
  records: number;
  /** The signal fired before the window ended. */
  interrupted: boolean;
  counters: LiveCounters;
  /** The saturation guard: the client's own lag (null for engines that cannot measure it). */
  client: ClientGuard | null;
}

const PROGRESS_INTERVAL_MS = 250;
/**
 * The cool-down ends at the latest this long after a request timeout past
 * the window: every request sent in the window has ended by then (its own
 * timeout fires first), so none is cut unless the clock itself was late.
 */
export const COOL_DOWN_SLACK_MS = 1_000;
/** A closed-loop user pauses this long after a refused connection instead of spinning. */
const CONNECT_BACKOFF_MS = 100;

function requireNumber(value: number, field: string, min: number, integer = false): void {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new ConfigError(
      `expected ${integer ? "a whole number" : "a number"} ≥ ${min}, got ${value}`,
      {
        field,
      },
    );
  }
}

/** Checks shared by both engines; ConfigError naming the offending field. */
export function validateLoadOptions(opts: LoadRunOptions): void {
  const s = opts.schedule;
  if (s.mode === "closed") {
    requireNumber(s.users, "load.users", 1, true);
    requireNumber(s.thinkTimeMs, "load.think_time", 0);
    // The wave barrier needs every request of a wave in one event loop (workers.ts runs it on one).
    if (s.scenario === "prefill-only" && (opts.share ?? WHOLE).count > 1) {
      throw new ConfigError("prefill-only waves run as one share: no segments", {
        field: "load.segments",
      });
    }
    if (s.spawnRate !== undefined && !(s.spawnRate > 0)) {
      throw new ConfigError(`expected a spawn rate > 0, got ${s.spawnRate}`, {
        field: "load.spawn_rate",
      });
    }
  } else {
    if (!(s.rate > 0))
      throw new ConfigError(`expected a rate > 0, got ${s.rate}`, { field: "load.rate" });
    if (!(s.burstiness > 0)) {
      throw new ConfigError(`expected burstiness > 0, got ${s.burstiness}`, {
        field: "load.burstiness",
      });
    }
    if (s.maxConcurrency !== undefined)
      requireNumber(s.maxConcurrency, "load.max_concurrency", 1, true);
  }
  requireNumber(opts.durationMs, "load.duration", 1);
  requireNumber(opts.warmupMs, "load.warmup", 0);
  requireNumber(opts.timeoutMs, "load.timeout", 1);
  requireNumber(opts.maxTokens, "load.max_tokens", 1, true);
  if (opts.promptSet.prompts.length === 0) {
    throw new ConfigError("the prompt set has no prompts", {
      field: `prompts.${opts.promptSet.name}`,
    });
  }
}

export async function runNodeLoad(opts: LoadRunOptions): Promise<LoadResult> {
  validateLoadOptions(opts);
  const target = parseTargetUrl(opts.url);
  const path = target.basePath + API_PATH[opts.api];
  const prompts = opts.promptSet.prompts;
  const share = opts.share ?? WHOLE;
  const pool = new Http1Pool(target.origin, Math.min(opts.timeoutMs, 30_000));
  const writer: RecordSink = opts.sink ?? (await NdjsonWriter.open<RequestRecord>(opts.outFile));
  const probe = new GuardProbe();

  const startMs =
    opts.startAtEpochMs === undefined ? nowMs() : monotonicFromEpochMs(opts.startAtEpochMs);
  const windowStartMs = startMs + opts.warmupMs;
  const endMs = windowStartMs + opts.durationMs;
  const counters = new LiveCounterTracker(startMs, opts.warmupMs);
  const inFlight = new Set<InFlightRequest>();
  const sleepers = new Set<(ok: boolean) => void>();
  const slotWaiters: Array<(ok: boolean) => void> = [];
  let stopping = false;
  /** The window closed and the cool-down runs: users keep sending until `stop`. */
  let cooling = false;
  let stopAtMs = endMs;
  let interrupted = false;
  let fatal: unknown = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });

  const cancelInFlight = (message: string) => {
    for (const req of inFlight) req.cancel("cancelled", message);
  };
  const stop = (why: "end" | "interrupt" | "fatal") => {
    if (why === "interrupt" && !stopping) interrupted = true;
    if (why !== "end") cancelInFlight(why === "interrupt" ? "interrupted" : "run aborted");
    if (stopping) return;
    stopping = true;
    // Timers may fire a hair early on the monotonic clock: the planned end is the end.
    stopAtMs = why === "end" ? endMs : Math.min(nowMs(), endMs);
    if (why === "end" && !opts.drain) {
      cancelInFlight(
        cooling
          ? "sent in the cool-down after the window"
          : "still in flight when the window closed",
      );
    }
    for (const wake of sleepers) wake(false);
    sleepers.clear();
    for (const wake of slotWaiters.splice(0)) wake(false);
    resolveStopped();
  };

  /** Some request sent before the window's end is still in flight. */
  const windowSentInFlight = () => {
    for (const req of inFlight) if (req.sendMs < endMs) return true;
    return false;
  };
  let coolDownCap: NodeJS.Timeout | undefined;
  /** The window's end: drain, or cool down until its last request has ended (capped). */
  const closeWindow = () => {
    if (opts.drain || stopping || !windowSentInFlight()) {
      stop("end");
      return;
    }
    cooling = true;
    coolDownCap = setTimeout(() => stop("end"), opts.timeoutMs + COOL_DOWN_SLACK_MS);
  };
  /** Sends go on until `stop` (past the window's end they are the cool-down's); with `drain`, only inside the window. */
  const sending = () => !stopping && (!opts.drain || nowMs() < endMs);

  /** Wait until a monotonic time; false if the run stopped meanwhile. */
  const sleepUntil = (atMs: number): Promise<boolean> => {
    if (stopping) return Promise.resolve(false);
    const delay = atMs - nowMs();
    if (delay <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (ok: boolean) => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve(ok);
      };
      const timer = setTimeout(() => wake(true), delay);
      sleepers.add(wake);
    });
  };

  const baseHeaders = buildRequestHeaders(opts.apiKey);
  const headers = (requestId: string) => ({ ...baseHeaders, "x-request-id": requestId });
  const sampling = samplingOf(opts);
  const plan = (slot: RequestSlot) => planRequest(opts, prompts, slot, sampling);

  /** `dueMs`: when the request should have gone out (the guard's send lag). */
  const sendOne = async (
    { prompt, requestId, body, maxTokens }: PlannedRequest,
    dueMs: number,
    wave?: number,
  ): Promise<{ record: RequestRecord; endMs: number }> => {
    counters.inFlight++;
    const req = sendRequest({
      pool,
      path,
      headers: headers(requestId),
      body,
      api: opts.api,
      stream: opts.stream,
      timeoutMs: opts.timeoutMs,
    });
    inFlight.add(req);
    // Due and sent inside the measured window only: the warm-up's burst is not what the guard
    // judges, and a timer may fire a fraction of a millisecond early, so a send due just after
    // the window opened can still go out (and be recorded as warm-up) just before it.
    if (dueMs >= windowStartMs && req.sendMs >= windowStartMs)
      probe.recordSendLag(req.sendMs - dueMs);
    const outcome = await req.done;
    inFlight.delete(req);
    counters.inFlight--;
    if (cooling && !stopping && !windowSentInFlight()) stop("end");
    const record = buildRecord(
      {
        experimentId: opts.experimentId,
        engine: "node",
        requestId,
        promptSet: opts.promptSet.name,
        promptTokensKnown: prompt.tokens,
        warmup: req.sendMs < windowStartMs,
        startUs: epochUs(req.sendMs),
        sendMs: req.sendMs,
        chunkTimesVisible: true,
        maxTokens,
        ...(wave === undefined ? {} : { wave }),
      },
      outcome,
    );
    try {
      writer.write(record);
    } catch (error) {
      fatal ??= error;
      stop("fatal");
    }
    counters.onRecord(record);
    slotWaiters.shift()?.(true);
    return { record, endMs: Number.isFinite(outcome.endMs) ? outcome.endMs : nowMs() };
  };

  const closedUser = async (
    index: number,
    schedule: { spawnRate?: number; thinkTimeMs: number },
  ) => {
    let dueMs = startMs + userStartOffsetMs(index, schedule.spawnRate);
    if (!(await sleepUntil(dueMs))) return;
    for (let k = 0; sending(); k++) {
      const { record, endMs: endedMs } = await sendOne(
        plan({ mode: "closed", user: index, k }),
        dueMs,
      );
      // Due again when the reply's last byte arrived (the data callback's time, plus think
      // time): the promise chain, the record and its write until the next send are client lag.
      dueMs = endedMs;
      if (record.error_kind === "connect") {
        dueMs += CONNECT_BACKOFF_MS;
        if (!(await sleepUntil(dueMs))) return;
      }
      if (schedule.thinkTimeMs > 0) {
        dueMs += schedule.thinkTimeMs;
        if (!(await sleepUntil(dueMs))) return;
      }
    }
  };

  /**
   * prefill-only (workload/scenarios.ts): wave w's B requests go out together; wave w + 1 is due
   * when the last of them ends (the barrier), so every wave is B prefills and nothing else.
   */
  const prefillWaves = async (batchSize: number) => {
    let dueMs = startMs;
    for (let wave = 0; sending(); wave++) {
      const sent = waveSlots(wave, batchSize).map((slot) => sendOne(plan(slot), dueMs, wave));
      const ends = await Promise.all(sent);
      dueMs = Math.max(...ends.map((e) => e.endMs));
      // As a closed-loop user does: a refused connection is no reason to spin.
      if (ends.some((e) => e.record.error_kind === "connect")) {
        dueMs += CONNECT_BACKOFF_MS;
        if (!(await sleepUntil(dueMs))) return;
      }
    }
  };

  const openLoop = async (schedule: OpenLoopSchedule) => {
    const arrivals = new OpenArrivals(schedule, opts.seed);
    const cap =
      schedule.maxConcurrency === undefined ? undefined : capShare(schedule.maxConcurrency, share);
    const tasks = new Set<Promise<unknown>>();
    for (let i = 0; ; i++) {
      const atMs = startMs + arrivals.next();
      // Past the window the arrivals go on through the cool-down, until `stop`.
      if (atMs >= endMs && opts.drain) break;
      // Every share draws the whole sequence (the same times) and sends only its own arrivals.
      if (!ownsSlot(share, i)) continue;
      if (!(await sleepUntil(atMs))) break;
      // Over the cap, the arrival waits for a free slot (as `vllm bench serve`'s semaphore does);
      // that wait is the cap's, not the client's lag.
      let dueMs = atMs;
      while (cap !== undefined && counters.inFlight >= cap) {
        const ok = await new Promise<boolean>((resolve) => slotWaiters.push(resolve));
        if (!ok) break;
        dueMs = nowMs();
      }
      if (stopping) break;
      const task = sendOne(plan({ mode: "open", arrival: i }), dueMs);
      tasks.add(task);
      void task.finally(() => tasks.delete(task));
    }
    await stopped;
    await Promise.all(tasks);
  };

  probe.start();
  let lag: WorkerLag;
  const onAbort = () => stop("interrupt");
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const endTimer = setTimeout(closeWindow, endMs - nowMs());
  const windowTimer = setTimeout(() => {
    counters.enterWindow(nowMs());
    probe.enterWindow();
  }, windowStartMs - nowMs());
  const progress = opts.onProgress;
  const progressTimer = progress
    ? setInterval(() => progress(counters.snapshot(nowMs())), PROGRESS_INTERVAL_MS)
    : undefined;

  try {
    const schedule = opts.schedule;
    if (schedule.mode === "closed" && schedule.scenario === "prefill-only") {
      await prefillWaves(schedule.users);
    } else if (schedule.mode === "closed") {
      const users: Promise<void>[] = [];
      for (let i = 0; i < schedule.users; i++) {
        if (ownsSlot(share, i)) users.push(closedUser(i, schedule));
      }
      await Promise.all(users);
    } else {
      await openLoop(schedule);
    }
    if (fatal) throw fatal;
    await writer.close();
  } catch (error) {
    stop("fatal");
    await writer.discard();
    throw error;
  } finally {
    clearTimeout(endTimer);
    clearTimeout(coolDownCap);
    clearTimeout(windowTimer);
    if (progressTimer) clearInterval(progressTimer);
    opts.signal?.removeEventListener("abort", onAbort);
    pool.destroy();
    lag = probe.stop();
  }
  const client = clientGuard([lag]);
  const windowEnd = Math.min(stopAtMs, endMs);
  const finalCounters = counters.snapshot(nowMs());
  progress?.(finalCounters);
  return {
    warmupStartUs: epochUs(startMs),
    windowStartUs: epochUs(Math.min(windowStartMs, windowEnd)),
    windowEndUs: epochUs(windowEnd),
    records: writer.count,
    interrupted,
    counters: finalCounters,
    client,
  };
}
