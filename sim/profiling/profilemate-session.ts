/**
 * A profilemate session (seed 003_bccd0eb5cfac7de6) built from the modelled
 * steps: the rows of each CSV as steps complete, and the `*_summary.json`
 * objects at the end. Columns and keys as ../shared/formats/README.md §2.
 * Timestamps are seconds since the profiler started, as profilemate's.
 * With several engines (DP replicas, PP lanes) their rows share one session;
 * the `context` of the CPU rows names the engine.
 */
import { quantileSorted } from "../../stats/quantile.ts";
import { STEP_PHASE_OPS } from "./step-trace.ts";
import { type StepView, stepTokens } from "./step-view.ts";

export const PROFILEMATE_CSVS = {
  forward_pass_timing: [
    "timestamp_sec",
    "phase",
    "batch_size",
    "num_tokens",
    "forward_time_ms",
    "throughput_tokens_per_sec",
  ],
  cpu_operations_timing: ["timestamp_sec", "operation", "duration_ms", "context"],
  batch_utilization: [
    "timestamp_sec",
    "num_seqs",
    "max_num_seqs",
    "seq_utilization_pct",
    "num_tokens",
    "max_tokens",
    "token_utilization_pct",
    "phase",
    "running_queue_len",
    "waiting_queue_len",
  ],
  preemption_events: [
    "timestamp_sec",
    "request_id",
    "event",
    "reason",
    "running_time_sec",
    "extra_info",
  ],
  request_lifecycle: [
    "request_id",
    "started_sec",
    "preempted_sec",
    "resumed_sec",
    "finished_sec",
    "total_time_sec",
    "preemption_delay_sec",
  ],
  kv_cache_usage: ["timestamp_sec", "usage_pct", "num_blocks", "total_blocks"],
} as const;

export type ProfilemateCsv = keyof typeof PROFILEMATE_CSVS;
export type Cell = string | number | null;
export type Emit = (csv: ProfilemateCsv, cells: Cell[]) => void;

/** The profiler switches profilemate's `ProfilingConfig` has, as metadata.json records them. */
export const PROFILER_SWITCHES = {
  enable_forward_pass_timing: true,
  enable_cpu_timing: true,
  enable_batch_utilization_tracking: true,
  enable_preemption_tracking: true,
  enable_kv_cache_tracking: true,
  enable_encoder_decoder_timing: false,
  enable_cuda_graph_tracking: false,
  use_cuda_events: false,
} as const;

/** A step below this share of max_num_seqs while requests wait is an underutilization event. */
const UNDERUTILIZED_PCT = 50;

/** Recompute preemption: vLLM V1 preempts when the KV cache cannot grow a running request. */
const PREEMPTION_REASON = "kv_cache_full";

interface Lifecycle {
  startedMs: number;
  preemptedMs: number | null;
  resumedMs: number | null;
  /** The current run began (start or last resume). */
  runningSinceMs: number;
  /** Preempted and not yet scheduled again. */
  preemptedNowMs: number | null;
  delayMs: number;
}

/** count, mean, population std (numpy's default), min, max and the asked percentiles, in ms. */
export function timingStats(values: number[], percentiles: readonly number[]) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = n > 0 ? sum / n : null;
  let sq = 0;
  for (const v of sorted) sq += (v - (mean ?? 0)) ** 2;
  const out: Record<string, number | null> = {
    count: n,
    mean_ms: mean,
    std_ms: n > 0 ? Math.sqrt(sq / n) : null,
    min_ms: n > 0 ? (sorted[0] as number) : null,
    max_ms: n > 0 ? (sorted[n - 1] as number) : null,
  };
  for (const p of percentiles) out[`p${p}_ms`] = n > 0 ? quantileSorted(sorted, p / 100) : null;
  return out;
}

const mean = (values: number[]) =>
  values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;

export class ProfilemateBuilder {
  private readonly forward = { prefill: [] as number[], decode: [] as number[] };
  private readonly cpu = new Map<string, number[]>(STEP_PHASE_OPS.map((op) => [op, []]));
  private readonly seqUtil: number[] = [];
  private readonly tokenUtil: number[] = [];
  private readonly utilByPhase = { prefill: [] as number[], decode: [] as number[] };
  private underutilized = 0;
  private maxNumSeqs = 0;
  private maxTokens = 0;
  private readonly lifecycles = new Map<string, Lifecycle>();
  private requestsSeen = 0;
  private preemptions = 0;
  private readonly runBeforePreempt: number[] = [];
  private readonly resumeDelays: number[] = [];

  constructor(
    private readonly emit: Emit,
    /** The profiler's start on the engine clock (ms). */
    private readonly t0Ms: number,
  ) {}

  private sec(ms: number): number {
    return (ms - this.t0Ms) / 1000;
  }

  onStep(v: StepView): void {
    const { cost } = v;
    const tokens = stepTokens(v);
    const prefill = v.batch.prefillTokens > 0;
    const phase = prefill ? "prefill" : "decode";
    const executeStartMs = v.startMs + cost.scheduleMs;
    this.emit("forward_pass_timing", [
      this.sec(executeStartMs),
      phase,
      v.chunks.length,
      tokens,
      cost.executeMs,
      cost.executeMs > 0 ? tokens / (cost.executeMs / 1000) : null,
    ]);
    this.forward[phase].push(cost.executeMs);

    const context = `engine=${v.lane} num_reqs=${v.chunks.length}`;
    const phaseMs = [cost.scheduleMs, cost.executeMs, cost.updateMs];
    let at = v.startMs;
    STEP_PHASE_OPS.forEach((op, i) => {
      const ms = phaseMs[i] as number;
      this.emit("cpu_operations_timing", [this.sec(at), op, ms, context]);
      this.cpu.get(op)?.push(ms);
      at += ms;
    });

    const seqPct = (v.chunks.length / v.maxNumSeqs) * 100;
    const tokenPct = (tokens / v.maxNumBatchedTokens) * 100;
    const batchPhase = !prefill ? "decode" : v.batch.decodeSeqs > 0 ? "mixed" : "prefill";
    this.emit("batch_utilization", [
      this.sec(v.startMs),
      v.chunks.length,
      v.maxNumSeqs,
      seqPct,
      tokens,
      v.maxNumBatchedTokens,
      tokenPct,
      batchPhase,
      v.running,
      v.waiting,
    ]);
    this.seqUtil.push(seqPct);
    this.tokenUtil.push(tokenPct);
    this.utilByPhase[phase].push(seqPct);
    if (seqPct < UNDERUTILIZED_PCT && v.waiting > 0) this.underutilized++;
    this.maxNumSeqs = Math.max(this.maxNumSeqs, v.maxNumSeqs);
    this.maxTokens = Math.max(this.maxTokens, v.maxNumBatchedTokens);

    this.trackRequests(v);

    const endMs = v.startMs + cost.totalMs;
    this.emit("kv_cache_usage", [
      this.sec(endMs),
      v.kvTotalBlocks > 0 ? (v.kvUsedBlocks / v.kvTotalBlocks) * 100 : 0,
      v.kvUsedBlocks,
      v.kvTotalBlocks,
    ]);
  }

  private trackRequests(v: StepView): void {
    for (const id of v.preemptedIds) {
      const life = this.lifecycles.get(id);
      if (!life) continue;
      this.preemptions++;
      const ranMs = v.startMs - life.runningSinceMs;
      this.runBeforePreempt.push(ranMs / 1000);
      life.preemptedMs ??= v.startMs;
      life.preemptedNowMs = v.startMs;
      this.emit("preemption_events", [
        this.sec(v.startMs),
        id,
        "preempted",
        PREEMPTION_REASON,
        ranMs / 1000,
        "",
      ]);
    }
    for (const { id } of v.chunks) {
      const life = this.lifecycles.get(id);
      if (!life) {
        this.requestsSeen++;
        this.lifecycles.set(id, {
          startedMs: v.startMs,
          preemptedMs: null,
          resumedMs: null,
          runningSinceMs: v.startMs,
          preemptedNowMs: null,
          delayMs: 0,
        });
      } else if (life.preemptedNowMs !== null) {
        const delay = v.startMs - life.preemptedNowMs;
        life.delayMs += delay;
        life.resumedMs ??= v.startMs;
        life.runningSinceMs = v.startMs;
        life.preemptedNowMs = null;
        this.resumeDelays.push(delay / 1000);
        this.emit("preemption_events", [
          this.sec(v.startMs),
          id,
          "resumed",
          PREEMPTION_REASON,
          null,
          `resume_delay_sec=${delay / 1000}`,
        ]);
      }
    }
    for (const { id, finishedMs } of v.finished) this.writeLifecycle(id, finishedMs);
  }

  private writeLifecycle(id: string, finishedMs: number | null): void {
    const life = this.lifecycles.get(id);
    if (!life) return;
    this.lifecycles.delete(id);
    const sec = (ms: number | null) => (ms === null ? null : this.sec(ms));
    this.emit("request_lifecycle", [
      id,
      sec(life.startedMs),
      sec(life.preemptedMs),
      sec(life.resumedMs),
      sec(finishedMs),
      finishedMs === null ? null : (finishedMs - life.startedMs) / 1000,
      life.preemptedMs === null ? null : life.delayMs / 1000,
    ]);
  }

  /** Requests still open get a lifecycle row without an end; then the summaries. */
  finish(): Record<string, unknown> {
    for (const id of [...this.lifecycles.keys()]) this.writeLifecycle(id, null);
    const cpu: Record<string, unknown> = {};
    for (const [op, values] of this.cpu) cpu[op] = timingStats(values, [95]);
    const reasons: Record<string, number> = {};
    if (this.preemptions > 0) reasons[PREEMPTION_REASON] = this.preemptions;
    return {
      forward_pass_summary: {
        prefill: timingStats(this.forward.prefill, [50, 95, 99]),
        decode: timingStats(this.forward.decode, [50, 95, 99]),
      },
      cpu_timing_summary: cpu,
      batch_utilization_summary: {
        total_samples: this.seqUtil.length,
        mean_seq_utilization_pct: mean(this.seqUtil),
        mean_token_utilization_pct: mean(this.tokenUtil),
        underutilization_events: this.underutilized,
        prefill_avg_utilization: mean(this.utilByPhase.prefill),
        decode_avg_utilization: mean(this.utilByPhase.decode),
        max_num_seqs: this.maxNumSeqs,
        max_tokens: this.maxTokens,
      },
      preemption_summary: {
        total_preemptions: this.preemptions,
        total_requests: this.requestsSeen,
        preemption_reasons: reasons,
        mean_running_time_before_preempt: mean(this.runBeforePreempt),
        mean_resume_delay: mean(this.resumeDelays),
        max_resume_delay: this.resumeDelays.length > 0 ? Math.max(...this.resumeDelays) : null,
      },
    };
  }
}
