/**
 * A chrome trace of modelled steps, in the shape torch.profiler's
 * `export_chrome_trace()` writes (seed 001; ../shared/formats/README.md §3):
 * per step one host `cpu_op` event per phase of vLLM V1's `EngineCore.step()`
 * (vllm/v1/engine/core.py: `schedule`, `execute_model`, `update_from_output`)
 * and, inside `execute_model`, one GPU `kernel` event per modelled kernel class
 * (kernel-classes.ts), back to back, so a step's kernels sum to its execute time.
 */
import type { StepCost } from "../engine/cost-model.ts";
import { KERNEL_CLASSES, type KernelPart } from "./kernel-classes.ts";

/** The CUDA stream kernels are drawn on (vLLM's default compute stream shows as 7). */
const KERNEL_STREAM = 7;

export const STEP_PHASE_OPS = ["schedule", "execute_model", "update_from_output"] as const;

export interface TraceEvent {
  ph: "X" | "M";
  name: string;
  cat?: string;
  pid: number | string;
  tid: number | string;
  ts?: number;
  dur?: number;
  args: Record<string, unknown>;
}

export interface TracedStep {
  /** Step number within the trace. */
  step: number;
  /** Modelled start, µs on the trace's clock. */
  startUs: number;
  cost: StepCost;
  kernels: readonly KernelPart[];
  /** Requests and tokens scheduled (args of the phase events). */
  requests: number;
  tokens: number;
}

export interface TraceRank {
  /** The host process (pid of cpu_op events). */
  pid: number;
  /** The engine lane (host thread). */
  lane: number;
  /** The GPU of this rank (kernel events' `device`). */
  device: number;
}

/** The events of one step: three phases on the host, the kernel classes on the GPU. */
export function stepEvents(rank: TraceRank, s: TracedStep): TraceEvent[] {
  const durations = [s.cost.scheduleMs, s.cost.executeMs, s.cost.updateMs];
  const events: TraceEvent[] = [];
  let ts = s.startUs;
  STEP_PHASE_OPS.forEach((name, i) => {
    const dur = (durations[i] as number) * 1000;
    events.push({
      ph: "X",
      cat: "cpu_op",
      name,
      pid: rank.pid,
      tid: rank.lane,
      ts,
      dur,
      args: { step: s.step, requests: s.requests, tokens: s.tokens },
    });
    if (name === "execute_model") {
      let kts = ts;
      for (const k of s.kernels) {
        const kdur = k.ms * 1000;
        events.push({
          ph: "X",
          cat: "kernel",
          name: KERNEL_CLASSES[k.kernel],
          pid: rank.device,
          tid: KERNEL_STREAM,
          ts: kts,
          dur: kdur,
          args: {
            device: rank.device,
            stream: KERNEL_STREAM,
            grid: [1, 1, 1],
            block: [1, 1, 1],
            step: s.step,
          },
        });
        kts += kdur;
      }
    }
    ts += dur;
  });
  return events;
}

/** The whole trace document, `export_chrome_trace()`'s top level. */
export function traceDocument(
  rank: TraceRank,
  deviceName: string,
  events: readonly TraceEvent[],
): Record<string, unknown> {
  const names: TraceEvent[] = [
    { ph: "M", name: "process_name", pid: rank.pid, tid: 0, args: { name: "vscale sim" } },
    { ph: "M", name: "thread_name", pid: rank.pid, tid: rank.lane, args: { name: "EngineCore" } },
    {
      ph: "M",
      name: "process_name",
      pid: rank.device,
      tid: 0,
      args: { name: `GPU ${rank.device}` },
    },
  ];
  return {
    schemaVersion: 1,
    deviceProperties: [{ id: rank.device, name: deviceName }],
    traceEvents: [...names, ...events],
  };
}
