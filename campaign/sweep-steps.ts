/**
 * The runner's half of a sweep (config/sweep.ts): before a rate step runs,
 * its rate comes from the synchronous and throughput steps' results on disk,
 * and the sweep stops when an earlier rate step was over-saturated or tripped
 * the client guard. Reading from disk, not memory, keeps resume exact: a
 * resumed campaign decides as the first run did.
 */
import { createReadStream, existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Experiment } from "../config/experiment.ts";
import { experimentId } from "../config/ids.ts";
import {
  overSaturated,
  SWEEP_SYNC_STEP,
  SWEEP_THROUGHPUT_STEP,
  type SweepSpec,
  sweepRate,
} from "../config/sweep.ts";
import {
  ExperimentInfoSchema,
  experimentDir,
  RAW_FILES,
  StatusSchema,
} from "../formats/raw-layout.ts";
import { RequestRecordSchema } from "../formats/request-record.ts";
import { inWindow, WindowStats } from "../stats/request-window.ts";

export interface StepFacts {
  offeredRps: number | null;
  /** Ok requests finished in the window, per second (stats/request-window.ts). */
  achievedRps: number;
  /** Over the window's second half: requests finished per second, and growth of those in flight. */
  lateAchievedRps: number;
  inFlightGrowthRps: number;
  flags: string[];
  /** The saturation guard's reasons when it tripped (experiment.json `client`), else null. */
  clientLimited: string | null;
}

/** One finished step's window facts, or null when it has no usable result. */
export async function readStepFacts(dir: string): Promise<StepFacts | null> {
  const statusFile = join(dir, RAW_FILES.status);
  if (!existsSync(statusFile)) return null;
  const status = StatusSchema.safeParse(JSON.parse(await readFile(statusFile, "utf8")));
  const info = ExperimentInfoSchema.safeParse(
    JSON.parse(await readFile(join(dir, RAW_FILES.experiment), "utf8")),
  );
  if (!status.success || !info.success) return null;
  const { window_start_us: startUs, window_end_us: endUs } = info.data.times;
  if (startUs === null || endUs === null || endUs <= startUs) return null;
  const window = { startUs, endUs };
  const stats = new WindowStats(window);
  const midUs = (startUs + endUs) / 2;
  // In flight at t = sent before t − finished before t; counted at the midpoint and the end.
  let inFlightMid = 0;
  let inFlightEnd = 0;
  let lateFinished = 0;
  const lines = createInterface({
    input: createReadStream(join(dir, RAW_FILES.requests), "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue; // a torn last line: the figures are the aggregate's to judge
    }
    const r = RequestRecordSchema.safeParse(value);
    if (!r.success) continue;
    const { start_us: s, end_us: e } = r.data;
    stats.add(r.data);
    if (s < midUs && e >= midUs) inFlightMid++;
    if (s < endUs && e >= endUs) inFlightEnd++;
    if (r.data.ok && inWindow(r.data, { startUs: midUs, endUs })) lateFinished++;
  }
  const figures = stats.figures();
  const halfS = (endUs - midUs) / 1e6;
  return {
    offeredRps: info.data.load.rate,
    achievedRps: figures.reqPerS ?? 0,
    lateAchievedRps: lateFinished / halfS,
    inFlightGrowthRps: (inFlightEnd - inFlightMid) / halfS,
    flags: [
      ...(status.data.flags ?? []),
      ...(status.data.status === "ok" ? [] : [status.data.status]),
    ],
    clientLimited: info.data.client?.limited
      ? info.data.client.reasons.join("; ") || "limited"
      : null,
  };
}

export type SweepDecision = { run: Experiment } | { skip: string };

/** The experiment to run for a sweep step (its rate filled in), or why the sweep stops here. */
export async function resolveSweepStep(
  e: Experiment,
  ctx: { resultsDir: string; campaign: string },
): Promise<SweepDecision> {
  const sweep: SweepSpec | undefined = e.load.sweep;
  const step = e.factors.sweep_step as number | undefined;
  if (!sweep || step === undefined || step <= SWEEP_THROUGHPUT_STEP) return { run: e };
  const factsOf = (s: number) => {
    const id = experimentId({ ...e.factors, sweep_step: s }, e.repeat);
    return readStepFacts(experimentDir(ctx.resultsDir, ctx.campaign, id));
  };
  const [sync, max] = [await factsOf(SWEEP_SYNC_STEP), await factsOf(SWEEP_THROUGHPUT_STEP)];
  if (!sync || !max || sync.achievedRps <= 0 || max.achievedRps <= 0) {
    return { skip: "sweep: the synchronous or throughput step has no result to derive rates from" };
  }
  for (let s = SWEEP_THROUGHPUT_STEP + 1; s < step; s++) {
    const facts = await factsOf(s);
    if (!facts || facts.offeredRps === null) continue;
    if (facts.clientLimited !== null) {
      return {
        skip: `sweep stopped at step ${s}: the client guard tripped (${facts.clientLimited})`,
      };
    }
    const why = overSaturated(sweep, {
      offeredRps: facts.offeredRps,
      achievedRps: facts.lateAchievedRps,
      inFlightGrowthRps: facts.inFlightGrowthRps,
    });
    if (why) return { skip: `sweep stopped at step ${s}: ${why}` };
  }
  const rate = sweepRate(sweep, step, sync.achievedRps, max.achievedRps);
  return { run: { ...e, factors: { ...e.factors, rate }, load: { ...e.load, rate } } };
}
