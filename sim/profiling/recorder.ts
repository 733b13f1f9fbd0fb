/**
 * The I/O edge of the simulator's profilers, each switched on by the
 * environment variable vLLM or the seed's tool reads:
 *
 * - `VLLM_TORCH_PROFILER_DIR`: `POST /start_profile` … `POST /stop_profile` records
 *   the steps in between; stop writes one gzipped chrome trace per engine
 *   (`<worker>.<epoch ms>.pt.trace.json.gz`, as torch's `tensorboard_trace_handler`
 *   names them) before it answers, as vLLM's does.
 * - `VLLM_PROFILING_DIR`: a profilemate session for the server's life, written
 *   at clean shutdown as `session_<YYYYMMDD_HHMMSS>/` (rows stream into a
 *   dot-named folder, renamed whole at the end).
 * - `VLLM_STEP_STATS_DIR`: seed 000's `execution_stats_*.csv`, likewise at shutdown.
 */
import { mkdirSync, renameSync } from "node:fs";
import { access, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { tempPathFor, writeFileAtomic } from "../../common/atomic-write.ts";
import type { CostModelParams } from "../engine/cost-model.ts";
import type { Engine, StepOutcome, StepPlan } from "../engine/scheduler.ts";
import type { ResolvedSim } from "../options.ts";
import { CsvStream } from "./csv-stream.ts";
import { kernelParts } from "./kernel-classes.ts";
import {
  PROFILEMATE_CSVS,
  PROFILER_SWITCHES,
  ProfilemateBuilder,
  type ProfilemateCsv,
} from "./profilemate-session.ts";
import { STEP_STATS_COLUMNS, stepStatsFileName, stepStatsRow } from "./step-stats.ts";
import { stepEvents, type TraceEvent, type TraceRank, traceDocument } from "./step-trace.ts";
import { stepTokens, viewStep } from "./step-view.ts";

const gzipAsync = promisify(gzip);

/**
 * Steps kept per engine in one trace: about 1.5 KiB of JSON each, so a trace stays well
 * under the aggregation's MAX_TRACE_BYTES (analysis/aggregate/chrome-trace.ts).
 */
export const MAX_TRACED_STEPS = 100_000;

interface Tracing {
  lanes: { events: TraceEvent[]; steps: number }[];
  dropped: number;
}

interface Session {
  tmpDir: string;
  name: string;
  startEpochS: number;
  csv: Record<ProfilemateCsv, CsvStream>;
  builder: ProfilemateBuilder;
}

interface StepStats {
  tmpFile: string;
  csv: CsvStream;
  requests: number;
}

/** `YYYYMMDD_HHMMSS` (UTC) of an epoch time in ms. */
function stamp(epochMs: number): string {
  const d = new Date(epochMs).toISOString();
  return `${d.slice(0, 10).replaceAll("-", "")}_${d.slice(11, 19).replaceAll(":", "")}`;
}

export class ServerProfilers {
  private tracing: Tracing | null = null;
  private readonly session: Session | null = null;
  private readonly stepStats: StepStats | null = null;
  private closed = false;

  constructor(
    private readonly sim: ResolvedSim,
    private readonly cost: CostModelParams,
    private readonly lanes: number,
    private readonly log: (line: string) => void,
    now: () => number = () => performance.now(),
  ) {
    const startMs = now();
    const startEpochMs = performance.timeOrigin + startMs;
    if (sim.profilingDir) {
      mkdirSync(sim.profilingDir, { recursive: true });
      const name = `session_${stamp(startEpochMs)}`;
      const tmpDir = tempPathFor(join(sim.profilingDir, name));
      mkdirSync(tmpDir);
      const csv = Object.fromEntries(
        Object.entries(PROFILEMATE_CSVS).map(([kind, header]) => [
          kind,
          new CsvStream(join(tmpDir, `${kind}.csv`), header),
        ]),
      ) as Record<ProfilemateCsv, CsvStream>;
      const builder = new ProfilemateBuilder((kind, cells) => csv[kind].row(cells), startMs);
      this.session = { tmpDir, name, startEpochS: startEpochMs / 1000, csv, builder };
    }
    if (sim.stepStatsDir) {
      mkdirSync(sim.stepStatsDir, { recursive: true });
      const tmpFile = tempPathFor(join(sim.stepStatsDir, "execution_stats.csv"));
      this.stepStats = { tmpFile, csv: new CsvStream(tmpFile, STEP_STATS_COLUMNS), requests: 0 };
    }
  }

  /** `POST /start_profile` is served only with VLLM_TORCH_PROFILER_DIR set, as in vLLM. */
  get torchEnabled(): boolean {
    return this.sim.torchProfilerDir !== undefined;
  }

  onStep(lane: number, replica: number, engine: Engine, plan: StepPlan, outcome: StepOutcome) {
    if (!this.tracing && !this.session && !this.stepStats) return;
    const view = viewStep(lane, replica, engine, plan, outcome);
    this.session?.builder.onStep(view);
    if (this.stepStats) {
      this.stepStats.requests += view.newRequests;
      this.stepStats.csv.row(
        stepStatsRow(
          view,
          {
            model: this.sim.model,
            blockSize: this.sim.blockSize,
            gpuMemoryUtilization: this.sim.gpuMemoryUtilization,
            enablePrefixCaching: this.sim.enablePrefixCaching,
            maxModelLen: this.sim.maxModelLenResolved,
          },
          (performance.timeOrigin + plan.startMs) / 1000,
        ),
      );
    }
    const traced = this.tracing?.lanes[lane];
    if (!this.tracing || !traced) return;
    if (traced.steps >= MAX_TRACED_STEPS) {
      this.tracing.dropped++;
      return;
    }
    const events = stepEvents(this.rank(lane, replica), {
      step: traced.steps++,
      startUs: (performance.timeOrigin + plan.startMs) * 1000,
      cost: plan.cost,
      kernels: kernelParts(this.cost, plan.batch, plan.cost),
      requests: view.chunks.length,
      tokens: stepTokens(view),
    });
    for (const e of events) traced.events.push(e);
  }

  private rank(lane: number, replica: number): TraceRank {
    return { pid: process.pid, lane, device: replica * this.sim.gpusPerReplica };
  }

  startProfile(): void {
    if (this.tracing) return;
    this.log("INFO vscale sim: Starting profiler...");
    this.tracing = {
      lanes: Array.from({ length: this.lanes }, () => ({ events: [], steps: 0 })),
      dropped: 0,
    };
  }

  /** Write the traces (one per engine) and return their paths; none when not started. */
  async stopProfile(): Promise<string[]> {
    const tracing = this.tracing;
    const dir = this.sim.torchProfilerDir;
    this.tracing = null;
    if (!tracing || !dir) return [];
    this.log("INFO vscale sim: Stopping profiler...");
    if (tracing.dropped > 0) {
      this.log(
        `WARNING vscale sim: profile kept ${MAX_TRACED_STEPS} steps per engine; ${tracing.dropped} later steps left out`,
      );
    }
    await mkdir(dir, { recursive: true });
    const pp = this.sim.pipelineParallelSize;
    const epochMs = Math.round(performance.timeOrigin + performance.now());
    const written: string[] = [];
    for (const [lane, traced] of tracing.lanes.entries()) {
      const replica = Math.floor(lane / pp);
      const doc = traceDocument(
        this.rank(lane, replica),
        this.sim.profile.description,
        traced.events,
      );
      const worker = `vscale-sim_dp${replica}_pp${lane % pp}_tp0`;
      const file = join(dir, `${worker}.${epochMs}.pt.trace.json.gz`);
      await writeFileAtomic(file, await gzipAsync(JSON.stringify(doc)));
      written.push(file);
    }
    this.log(`INFO vscale sim: Profiler stopped; ${written.length} trace(s) in ${dir}`);
    return written;
  }

  /** Clean shutdown: write the session and the step CSV (a failure is logged, not thrown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tracing) await this.stopProfile().catch((e: unknown) => this.fail("trace", e));
    if (this.session) await this.closeSession(this.session).catch((e) => this.fail("session", e));
    if (this.stepStats)
      await this.closeStepStats(this.stepStats).catch((e) => this.fail("step stats", e));
  }

  private fail(what: string, error: unknown): void {
    this.log(`ERROR vscale sim: cannot write the ${what}: ${(error as Error).message ?? error}`);
  }

  private async closeSession(s: Session): Promise<void> {
    const summaries = s.builder.finish();
    for (const csv of Object.values(s.csv)) await csv.close();
    for (const [name, value] of Object.entries(summaries)) {
      await writeFile(join(s.tmpDir, `${name}.json`), `${JSON.stringify(value, null, 2)}\n`);
    }
    const dir = this.sim.profilingDir as string;
    let target = join(dir, s.name);
    for (let i = 2; await exists(target); i++) target = join(dir, `${s.name}_${i}`);
    const metadata = {
      session_id: target.slice(target.lastIndexOf("/") + 1 + "session_".length),
      start_time: s.startEpochS,
      output_dir: target,
      ...PROFILER_SWITCHES,
    };
    await writeFile(join(s.tmpDir, "metadata.json"), `${JSON.stringify(metadata, null, 2)}\n`);
    await rename(s.tmpDir, target);
    this.log(`INFO vscale sim: profiling session written to ${target}`);
  }

  private async closeStepStats(s: StepStats): Promise<void> {
    await s.csv.close();
    const target = join(
      this.sim.stepStatsDir as string,
      stepStatsFileName(s.requests, this.sim.model),
    );
    try {
      renameSync(s.tmpFile, target);
    } catch (error) {
      await rm(s.tmpFile, { force: true });
      throw error;
    }
    this.log(`INFO vscale sim: step stats written to ${target}`);
  }
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
