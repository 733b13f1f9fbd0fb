/**
 * One worker's own lag, measured while it runs: the event loop's delay
 * (`monitorEventLoopDelay`, how late a timer fires), the send lag (how late
 * requests go out compared with when they were due), the read wait (how long
 * a read's bytes can have waited before the worker read them, `read-wait.ts`)
 * and its CPU. CPU is the
 * thread's event-loop utilisation, the share of wall time its loop was busy:
 * `process.cpuUsage()` is process-wide in worker threads and Node 20 has no
 * per-thread counter, while a load worker is one thread whose busy time is
 * what runs out.
 */
import {
  createHistogram,
  type EventLoopUtilization,
  monitorEventLoopDelay,
  performance,
} from "node:perf_hooks";
import type { WorkerLag } from "../../formats/raw-layout.ts";
import { readWait } from "./read-wait.ts";

/** Timer resolution of the delay monitor (ms): fine enough for a 10 ms threshold. */
const LOOP_RESOLUTION_MS = 5;

export class GuardProbe {
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly send = createHistogram();
  private elu: EventLoopUtilization | null = null;

  start(): void {
    this.loop.enable();
    this.elu = performance.eventLoopUtilization();
    readWait.start();
  }

  /**
   * The measured window begins: the guard judges the window only. The warm-up's
   * start-up burst (every closed-loop user due at once, each first send opening
   * a connection) is late by design and is what the warm-up is for. Send lag
   * is filtered by due time instead (the runner records only sends due in the
   * window), so a send due at the window's start is kept whichever runs first.
   */
  enterWindow(): void {
    this.loop.reset();
    this.elu = performance.eventLoopUtilization();
    readWait.start();
  }

  /** A request went out `lagMs` after it was due. */
  recordSendLag(lagMs: number): void {
    // The histogram takes whole numbers ≥ 1: microseconds.
    this.send.record(Math.max(1, Math.round(lagMs * 1000)));
  }

  stop(): WorkerLag {
    this.loop.disable();
    const elu = this.elu ? performance.eventLoopUtilization(this.elu) : null;
    const round = (x: number) => Math.round(x * 1000) / 1000;
    // The monitor's figures exclude its own resolution: a loop on time reads about 0.
    const loopSamples = this.loop.count;
    return {
      loop_lag_ms_p99:
        loopSamples > 0
          ? round(Math.max(0, this.loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS))
          : null,
      send_lag_ms_p99: this.send.count > 0 ? round(this.send.percentile(99) / 1000) : null,
      cpu_pct: elu ? round(elu.utilization * 100) : null,
      send_lag_samples: this.send.count,
      read_wait_ms_p99: readWait.stop(),
    };
  }
}
