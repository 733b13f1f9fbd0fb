/**
 * The saturation guard's verdict: is the client, not the server, what limits
 * this run? Each worker measures its own lag (`node/guard-probe.ts`); this
 * combines them (the worst worker counts: one saturated worker delays its
 * share of the requests whatever the others do) and applies the documented
 * thresholds (docs/load.md "The saturation guard"). Pure: the runner writes
 * the result to experiment.json, aggregation copies it into the summary.
 */
import type { ClientGuard, WorkerLag } from "../formats/raw-layout.ts";

/**
 * Past any of these the client is flagged. Event-loop delay and send lag are
 * what a request's timing inherits directly (a TTFT is late by the loop's
 * delay); 10 ms is the TTFT error the load goal allows at 512 streams. A loop
 * busy 85% of the time has no slack left for bursts: its delay grows next.
 * A read whose bytes waited behind the loop's other work is stamped late by
 * that wait, which the loop's delay does not see (node/read-wait.ts).
 */
export const CLIENT_LIMITS = {
  loopLagMsP99: 10,
  sendLagMsP99: 10,
  readWaitMsP99: 10,
  cpuPct: 85,
} as const;

function worst(values: readonly (number | null)[]): number | null {
  let max: number | null = null;
  for (const v of values) if (v !== null && (max === null || v > max)) max = v;
  return max;
}

export function clientGuard(workers: readonly WorkerLag[]): ClientGuard {
  const loop = worst(workers.map((w) => w.loop_lag_ms_p99));
  const send = worst(workers.map((w) => w.send_lag_ms_p99));
  const cpu = worst(workers.map((w) => w.cpu_pct));
  const read = worst(workers.map((w) => w.read_wait_ms_p99 ?? null));
  const reasons: string[] = [];
  const over = (value: number | null, limit: number, what: string, unit: string) => {
    if (value !== null && value > limit)
      reasons.push(`${what} ${value.toFixed(1)}${unit} > ${limit}${unit}`);
  };
  over(loop, CLIENT_LIMITS.loopLagMsP99, "event-loop delay p99", " ms");
  over(send, CLIENT_LIMITS.sendLagMsP99, "send lag p99", " ms");
  over(read, CLIENT_LIMITS.readWaitMsP99, "read wait p99", " ms");
  over(cpu, CLIENT_LIMITS.cpuPct, "worker CPU", "%");
  return {
    workers: workers.length,
    loop_lag_ms_p99: loop,
    send_lag_ms_p99: send,
    cpu_pct: cpu,
    read_wait_ms_p99: read,
    limited: reasons.length > 0,
    reasons,
    per_worker: [...workers],
  };
}

/** One phrase for the console line and the report. */
export function describeClientGuard(g: ClientGuard): string {
  const f = (x: number | null, unit: string) => (x === null ? "-" : `${x.toFixed(1)}${unit}`);
  const figures = `loop lag p99 ${f(g.loop_lag_ms_p99, " ms")}, send lag p99 ${f(g.send_lag_ms_p99, " ms")}, read wait p99 ${f(g.read_wait_ms_p99 ?? null, " ms")}, CPU ${f(g.cpu_pct, "%")} (${g.workers} worker${g.workers === 1 ? "" : "s"})`;
  return g.limited
    ? `CLIENT-LIMITED: ${g.reasons.join("; ")}; the figures measure the client, add workers`
    : `client ok: ${figures}`;
}

/** The summary's client_* columns (formats/agg-tables.ts) from experiment.json `client`; null when absent. */
export function clientColumns(g: ClientGuard | undefined): Record<string, number | boolean | null> {
  return {
    client_loop_lag_ms_p99: g?.loop_lag_ms_p99 ?? null,
    client_send_lag_ms_p99: g?.send_lag_ms_p99 ?? null,
    client_read_wait_ms_p99: g?.read_wait_ms_p99 ?? null,
    client_cpu_pct: g?.cpu_pct ?? null,
    client_workers: g?.workers ?? null,
    client_limited: g?.limited ?? null,
  };
}
