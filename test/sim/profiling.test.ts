/**
 * The simulator's server profiles, read back with the aggregation's own readers:
 * the torch-profiler trace (start/stop_profile), the profilemate session and the
 * seed-000 step CSV written at SIGTERM.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { readChromeTrace } from "../../analysis/aggregate/chrome-trace.ts";
import { withEngine } from "../../analysis/aggregate/duck.ts";
import { readProfilemateCsv } from "../../analysis/aggregate/profilemate.ts";
import { findProfiles } from "../../analysis/aggregate/profiles.ts";
import { readStepPhases } from "../../analysis/aggregate/step-phases.ts";
import { PHASE_SPLIT } from "../../sim/engine/cost-model.ts";
import { KERNEL_CLASSES } from "../../sim/profiling/kernel-classes.ts";
import { PROFILEMATE_CSVS } from "../../sim/profiling/profilemate-session.ts";
import { startCli, until } from "../helpers/vscale-cli.ts";
import { freePort, MODEL, sim, stream } from "./helpers.ts";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vscale-prof-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const warnings: string[] = [];
const warn = (line: string) => warnings.push(line);

interface RawEvent {
  ph: string;
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  args: { step?: number };
}

async function rawEvents(file: string): Promise<RawEvent[]> {
  const doc = JSON.parse(gunzipSync(await readFile(file)).toString("utf8")) as {
    traceEvents: RawEvent[];
  };
  return doc.traceEvents.filter((e) => e.ph === "X");
}

/** Per step: the phase events and the kernel events, by step number. */
function bySteps(events: RawEvent[]) {
  const steps = new Map<number, { ops: RawEvent[]; kernels: RawEvent[] }>();
  for (const e of events) {
    const step = e.args.step as number;
    const s = steps.get(step) ?? { ops: [], kernels: [] };
    (e.cat === "kernel" ? s.kernels : s.ops).push(e);
    steps.set(step, s);
  }
  return [...steps.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
}

const body = (i: number) => ({
  model: MODEL,
  prompt: `profile me please, request number ${i} `.repeat(20),
  max_tokens: 24,
  ignore_eos: true,
});

describe("server profiles of the simulator", () => {
  it("writes a trace on stop_profile, and a profilemate session and step CSV on SIGTERM", async () => {
    const root = await tempDir();
    const env = {
      ...process.env,
      VLLM_TORCH_PROFILER_DIR: join(root, "torch"),
      VLLM_PROFILING_DIR: join(root, "profilemate"),
      VLLM_STEP_STATS_DIR: join(root, "steps"),
    };
    const port = await freePort();
    const cli = startCli(
      ["sim", "serve", MODEL, "-tp", "2", "--port", String(port), "--sim-time-scale", "20"],
      env,
    );
    const url = `http://127.0.0.1:${port}`;
    expect(await until(() => cli.stdout().includes("serving"))).toBe(true);
    const requests = 6;
    expect((await fetch(`${url}/start_profile`, { method: "POST" })).status).toBe(200);
    const results = await Promise.all(
      Array.from({ length: requests }, (_, i) => stream(url, "/v1/completions", body(i))),
    );
    expect(results.every((r) => r.done)).toBe(true);
    expect((await fetch(`${url}/stop_profile`, { method: "POST" })).status).toBe(200);
    cli.child.kill("SIGTERM");
    const exit = await cli.done;
    expect(exit.code).toBe(0);

    // The trace: found by the aggregation's pattern; kernels sum to execute_model, per step.
    const traces = (await findProfiles(join(root, "torch"))).traces;
    expect(traces).toHaveLength(1);
    const tables = await readChromeTrace(traces[0] as string, warn);
    expect(tables.ops.map((r) => r.name).sort()).toEqual([
      "execute_model",
      "schedule",
      "update_from_output",
    ]);
    expect(tables.kernels.map((r) => r.name).sort()).toEqual(
      [
        KERNEL_CLASSES.serial,
        KERNEL_CLASSES.gemm,
        KERNEL_CLASSES.attention,
        KERNEL_CLASSES.allReduce,
      ].sort(),
    );
    const steps = bySteps(await rawEvents(traces[0] as string));
    expect(steps.length).toBeGreaterThanOrEqual(24);
    for (const { ops, kernels } of steps) {
      const [schedule, execute, update] = ops as [RawEvent, RawEvent, RawEvent];
      expect(ops.map((o) => o.name)).toEqual(["schedule", "execute_model", "update_from_output"]);
      // Back to back: the phases tile the step, the kernels tile execute_model.
      expect(execute.ts).toBeCloseTo(schedule.ts + schedule.dur, 3);
      expect(update.ts).toBeCloseTo(execute.ts + execute.dur, 3);
      const kernelSum = kernels.reduce((s, k) => s + k.dur, 0);
      expect(kernelSum / execute.dur).toBeCloseTo(1, 9);
      // The planted phase split of seed 000, at TP 2 too.
      const step = schedule.dur + execute.dur + update.dur;
      expect(schedule.dur / step).toBeCloseTo(PHASE_SPLIT.schedule, 9);
    }

    // The profilemate session: every CSV parses with the aggregation's reader.
    const sessions = (await findProfiles(join(root, "profilemate"))).sessions;
    expect(sessions).toHaveLength(1);
    const session = sessions[0] as string;
    const rows: Record<string, Record<string, unknown>[]> = {};
    await withEngine(async (engine) => {
      for (const kind of Object.keys(PROFILEMATE_CSVS)) {
        const file = join(session, `${kind}.csv`);
        rows[kind] = await readProfilemateCsv(engine, kind, file, warn);
      }
    });
    const forward = rows.forward_pass_timing ?? [];
    const cpu = rows.cpu_operations_timing ?? [];
    expect(forward.length).toBeGreaterThanOrEqual(24);
    expect(cpu).toHaveLength(3 * forward.length);
    expect(rows.batch_utilization).toHaveLength(forward.length);
    expect(rows.kv_cache_usage).toHaveLength(forward.length);
    const lifecycle = rows.request_lifecycle ?? [];
    expect(lifecycle).toHaveLength(requests);
    for (const r of lifecycle) {
      expect(r.finished_sec as number).toBeGreaterThan(r.started_sec as number);
      expect(r.total_time_sec as number).toBeCloseTo(
        (r.finished_sec as number) - (r.started_sec as number),
        9,
      );
    }
    // forward_time_ms is the execute_model operation of the same step.
    const execute = cpu.filter((r) => r.operation === "execute_model");
    forward.forEach((r, i) => {
      expect(r.forward_time_ms).toBe(execute[i]?.duration_ms);
    });
    const files = (await readdir(session)).sort();
    expect(files).toEqual(
      [
        ...Object.keys(PROFILEMATE_CSVS).map((k) => `${k}.csv`),
        "batch_utilization_summary.json",
        "cpu_timing_summary.json",
        "forward_pass_summary.json",
        "metadata.json",
        "preemption_summary.json",
      ].sort(),
    );
    const summary = JSON.parse(
      await readFile(join(session, "forward_pass_summary.json"), "utf8"),
    ) as Record<string, { count: number; mean_ms: number }>;
    expect((summary.prefill?.count ?? 0) + (summary.decode?.count ?? 0)).toBe(forward.length);
    const preemption = JSON.parse(
      await readFile(join(session, "preemption_summary.json"), "utf8"),
    ) as Record<string, unknown>;
    expect(preemption.total_requests).toBe(requests);
    const metadata = JSON.parse(await readFile(join(session, "metadata.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(metadata.output_dir).toBe(session);
    expect(metadata.enable_forward_pass_timing).toBe(true);
    expect(typeof metadata.start_time).toBe("number");

    // The seed-000 CSV: one row per step, tokens read back from the Python dict.
    const csvs = (await findProfiles(join(root, "steps"))).stepCsvs;
    expect(csvs).toHaveLength(1);
    expect(csvs[0]).toContain(`execution_stats_${requests}_`);
    const stepRows = await withEngine((engine) => readStepPhases(engine, csvs[0] as string, warn));
    expect(stepRows).toHaveLength(forward.length);
    const promptTokens = stepRows.reduce((s, r) => s + (r.prefill_tokens as number), 0);
    const decodeTokens = stepRows.reduce((s, r) => s + (r.decode_tokens as number), 0);
    const usagePrompt = results.reduce(
      (s, r) =>
        s + ((r.chunks.at(-1)?.usage as { prompt_tokens?: number } | null)?.prompt_tokens ?? 0),
      0,
    );
    // Every generated token but each request's first (made by its last prefill step) is a decode.
    expect(decodeTokens).toBe(requests * (24 - 1));
    if (usagePrompt > 0) expect(promptTokens).toBe(usagePrompt);
    for (const r of stepRows)
      expect(r.scheduler_share as number).toBeCloseTo(PHASE_SPLIT.schedule, 9);
    expect(warnings).toEqual([]);
  }, 30_000);

  it("serves /start_profile only with VLLM_TORCH_PROFILER_DIR, as vLLM", async () => {
    const server = await sim();
    try {
      expect((await fetch(`${server.url}/start_profile`, { method: "POST" })).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it("keeps the serial kernel class constant across TP and halves the GEMMs from TP 1 to 2", async () => {
    const perTp = new Map<number, RawEvent[][]>();
    for (const tp of [1, 2]) {
      const dir = await tempDir();
      const server = await sim({ tensorParallelSize: tp, torchProfilerDir: dir });
      try {
        await fetch(`${server.url}/start_profile`, { method: "POST" });
        // One request at a time: the same batches at both sizes.
        await stream(server.url, "/v1/completions", body(0));
        await fetch(`${server.url}/stop_profile`, { method: "POST" });
      } finally {
        await server.close();
      }
      const [trace] = (await findProfiles(dir)).traces;
      perTp.set(
        tp,
        bySteps(await rawEvents(trace as string)).map((s) => s.kernels),
      );
    }
    const one = perTp.get(1) ?? [];
    const two = perTp.get(2) ?? [];
    expect(one.length).toBe(24);
    expect(two.length).toBe(one.length);
    const dur = (kernels: RawEvent[], name: string) =>
      kernels.find((k) => k.name === name)?.dur ?? 0;
    one.forEach((k1, i) => {
      const k2 = two[i] as RawEvent[];
      expect(dur(k2, KERNEL_CLASSES.serial) / dur(k1, KERNEL_CLASSES.serial)).toBeCloseTo(1, 9);
      expect(dur(k2, KERNEL_CLASSES.gemm) / dur(k1, KERNEL_CLASSES.gemm)).toBeCloseTo(0.5, 9);
      expect(dur(k2, KERNEL_CLASSES.attention) / dur(k1, KERNEL_CLASSES.attention)).toBeCloseTo(
        0.5,
        9,
      );
      expect(dur(k1, KERNEL_CLASSES.allReduce)).toBe(0);
      expect(dur(k2, KERNEL_CLASSES.allReduce)).toBeGreaterThan(0);
    });
  });

  it("--sim-schedule-delay-ms adds modelled ms to every schedule phase, ÷ --sim-time-scale", async () => {
    const dir = await tempDir();
    const delayMs = 4;
    const timeScale = 20;
    const server = await sim({
      simScheduleDelayMs: delayMs,
      simTimeScale: timeScale,
      stepStatsDir: dir,
    });
    try {
      await stream(server.url, "/v1/completions", body(1));
    } finally {
      await server.close();
    }
    const [csv] = (await findProfiles(dir)).stepCsvs;
    const rows = await withEngine((engine) => readStepPhases(engine, csv as string, warn));
    expect(rows.length).toBe(24);
    for (const r of rows) {
      // Modelled ms: the planted split's schedule share of the undelayed step, plus the delay.
      const executeMs = (r.execute_s as number) * 1000 * timeScale;
      const scheduleMs = (r.scheduler_s as number) * 1000 * timeScale;
      const undelayed = (executeMs / PHASE_SPLIT.execute) * PHASE_SPLIT.schedule;
      expect(scheduleMs - undelayed).toBeCloseTo(delayMs, 9);
    }
  });
});

describe("kernel classes", () => {
  it("split a fitted profile's execute time exactly, the unsharded per-token term serial", async () => {
    const { resolveSimOptions } = await import("../../sim/options.ts");
    const { stepCost } = await import("../../sim/engine/cost-model.ts");
    const { kernelParts } = await import("../../sim/profiling/kernel-classes.ts");
    for (const tp of [1, 2, 4]) {
      const options = resolveSimOptions({
        model: MODEL,
        simProfile: "llama-8b-h200",
        tensorParallelSize: tp,
      });
      const params = {
        profile: options.profile,
        tensorParallelSize: tp,
        serialFraction: 0,
        timeScale: 1,
        fitted: options.stepProfile ?? undefined,
      };
      for (const batch of [
        { prefillTokens: 4096, decodeSeqs: 0, contextTokens: 4096, requests: 2 },
        { prefillTokens: 0, decodeSeqs: 64, contextTokens: 64_000, requests: 64 },
      ]) {
        const cost = stepCost(params, batch);
        const parts = kernelParts(params, batch, cost);
        expect(parts.reduce((s, p) => s + p.ms, 0)).toBeCloseTo(cost.executeMs, 9);
        expect(parts.every((p) => p.ms > 0)).toBe(true);
      }
    }
  });
});
