/**
 * The Node engine on several cores: N worker threads, each with its own event
 * loop and HTTP/1.1 connection pool (http1-pool.ts), each running its share of the users or arrivals
 * (`workload/share.ts`: the same seed gives the same requests whatever N is).
 * Records stream into the one `requests.ndjson`; live counters and Ctrl-C
 * cover every worker; the saturation guard takes the worst worker.
 *
 * Not piscina or tinypool: those run short tasks from a queue on pooled
 * threads, while a load worker is one long-lived event loop that streams
 * records and counters back for the whole run; the pool would add a queue
 * and give nothing a thread here needs.
 */
import { Worker } from "node:worker_threads";
import type { RequestRecord } from "../../formats/request-record.ts";
import { clientGuard } from "../client-guard.ts";
import { scenarioOf } from "../workload/scenarios.ts";
import { WHOLE, workerShare } from "../workload/share.ts";
import { type LiveCounters, mergeCounters } from "./live-counters.ts";
import { NdjsonWriter } from "./ndjson-writer.ts";
import { type LoadResult, type LoadRunOptions, runNodeLoad, validateLoadOptions } from "./run.ts";
import type { FromWorker, ToWorker, WorkerInput, WorkerOptions } from "./worker-protocol.ts";

export interface MultiLoadOptions extends LoadRunOptions {
  /** Worker threads; 1 (the default) runs in this thread. */
  workers?: number;
}

// Node 20 does not pass tsx's loader on to workers: a bootstrap registers it, then imports the entry.
const ENTRY = new URL("./worker-main.ts", import.meta.url).href;
const TSX_API = import.meta.resolve("tsx/esm/api");
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY)}); });`;
/** Between "all workers ready" and the common start: time for the go message to arrive everywhere. */
const START_MARGIN_MS = 50;
const PROGRESS_INTERVAL_MS = 250;

interface WorkerState {
  worker: Worker;
  counters: LiveCounters | null;
  ready: Promise<void>;
  done: Promise<LoadResult>;
}

export async function runLoad(opts: MultiLoadOptions): Promise<LoadResult> {
  const { workers = 1, ...single } = opts;
  // prefill-only's barrier waits for every request of a wave: one event loop holds them all
  // (a cross-thread barrier would add a message round trip to every wave's timing).
  if (workers <= 1 || scenarioOf(single.schedule) === "prefill-only") return runNodeLoad(single);
  validateLoadOptions(single);
  const { onProgress, signal, sink: _sink, share = WHOLE, ...rest } = single;
  const options: WorkerOptions = rest;
  const writer = await NdjsonWriter.open<RequestRecord>(opts.outFile);
  let failure: string | null = null;

  const states: WorkerState[] = [];
  const send = (message: ToWorker) => {
    for (const s of states) s.worker.postMessage(message);
  };
  for (let w = 0; w < workers; w++) {
    const data: WorkerInput = { options, share: workerShare(share, w, workers) };
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data });
    let onReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
    });
    const state: WorkerState = {
      worker,
      counters: null,
      ready,
      done: new Promise<LoadResult>((resolve, reject) => {
        worker.on("message", (message: FromWorker) => {
          if (message.type === "ready") onReady();
          else if (message.type === "lines") {
            try {
              writer.writeLines(message.text, message.lines);
            } catch (error) {
              failure ??= error instanceof Error ? error.message : String(error);
              send({ type: "stop" });
            }
          } else if (message.type === "progress") state.counters = message.counters;
          else if (message.type === "done") resolve(message.result);
          else {
            failure ??= `worker ${w}: ${message.message}`;
            send({ type: "stop" });
            reject(new Error(failure));
          }
        });
        worker.on("error", (error) => {
          failure ??= `worker ${w}: ${error.message}`;
          onReady();
          send({ type: "stop" });
          reject(error);
        });
        worker.on("exit", (code) => reject(new Error(`worker ${w} exited with code ${code}`)));
      }),
    };
    // Settled below; never an unhandled rejection meanwhile.
    state.done.catch(() => undefined);
    states.push(state);
  }

  const onAbort = () => send({ type: "stop" });
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([Promise.all(states.map((s) => s.ready)), ...states.map((s) => s.done)]);
    const startAtEpochMs = Date.now() + START_MARGIN_MS;
    send({ type: "go", startAtEpochMs });
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const merged = () =>
      mergeCounters(
        states.flatMap((s) => (s.counters ? [s.counters] : [])),
        Date.now() - startAtEpochMs,
      );
    if (onProgress) progressTimer = setInterval(() => onProgress(merged()), PROGRESS_INTERVAL_MS);
    const results = await Promise.all(states.map((s) => s.done));
    if (failure !== null) throw new Error(failure);
    await writer.close();
    const counters = mergeCounters(
      results.map((r) => r.counters),
      Date.now() - startAtEpochMs,
    );
    onProgress?.(counters);
    return {
      warmupStartUs: Math.min(...results.map((r) => r.warmupStartUs)),
      windowStartUs: Math.min(...results.map((r) => r.windowStartUs)),
      // An interrupt reaches workers a moment apart: the window is what all of them ran.
      windowEndUs: Math.min(...results.map((r) => r.windowEndUs)),
      records: writer.count,
      interrupted: results.some((r) => r.interrupted),
      counters,
      client: clientGuard(results.flatMap((r) => r.client?.per_worker ?? [])),
    };
  } catch (error) {
    send({ type: "stop" });
    await writer.discard();
    throw error;
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    signal?.removeEventListener("abort", onAbort);
    await Promise.all(states.map((s) => s.worker.terminate()));
  }
}
