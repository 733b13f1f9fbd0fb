/**
 * A scaling campaign's design run on the simulator's engine in virtual time:
 * for each GPU count and repeat, a fresh engine and a closed loop of users
 * (runClosedLoop), one throughput point per run. Milliseconds per run, so a
 * bench or a test can repeat a whole campaign over many seeds and hand the
 * points to the same fit code the real campaign uses.
 *
 * Run-to-run variation is explicit, as it is not in virtual time: each run
 * draws its own prompt lengths and a speed factor (the simulated GPU's time
 * scale times 1 + jitter·z, z standard normal), standing in for what differs
 * between two real runs of one configuration (the prompt sample, machine noise).
 */
import { createRng } from "../../stats/rng.ts";
import { kvBlocksFor } from "./cost-model.ts";
import { DEFAULT_PROFILE, PROFILES, type SimProfile } from "./profiles.ts";
import { Engine } from "./scheduler.ts";
import { runClosedLoop } from "./virtual-run.ts";

export interface VirtualDesign {
  gpus: readonly number[];
  repeats: number;
  users: number;
  warmupMs: number;
  windowMs: number;
  /** Output tokens per request (max_tokens with ignore_eos). */
  outputTokens: number;
  /** Prompt tokens per request: normal, clipped to [min, max]. */
  prompt: { mean: number; std: number; min: number; max: number };
  /** The planted Amdahl s (`--sim-serial-fraction`). */
  serialFraction: number;
  /** `--sim-time-scale`. */
  timeScale: number;
  maxNumSeqs: number;
  /** Users started per second (the matrix's `load.spawn_rate`). */
  spawnRate: number;
  /** Standard deviation of a run's relative speed (0.03: 3% run to run). */
  jitter: number;
}

/** The shipped main job (config/experiment_matrix.yaml): users 32, medium prompts, 3 repeats. */
export const MAIN_JOB_DESIGN: VirtualDesign = {
  gpus: [1, 2, 4, 8],
  repeats: 3,
  users: 32,
  warmupMs: 2000,
  windowMs: 5000,
  outputTokens: 32,
  prompt: { mean: 512, std: 64, min: 256, max: 1024 },
  serialFraction: 0.08,
  timeScale: 0.5,
  maxNumSeqs: 256,
  spawnRate: 32,
  jitter: 0.03,
};

function engineFor(profile: SimProfile, design: VirtualDesign, tp: number, speed: number): Engine {
  return new Engine({
    maxNumSeqs: design.maxNumSeqs,
    maxNumBatchedTokens: 8192,
    enableChunkedPrefill: true,
    // As the main job: prefix caching off, so KV memory growing with TP cannot help.
    enablePrefixCaching: false,
    blockSize: 16,
    // Blocks beyond what every user's longest request can hold at once change nothing with
    // prefix caching off, and cost time to build: capped there.
    numGpuBlocks: Math.min(
      kvBlocksFor(profile, tp, 0.9, 16),
      design.users * Math.ceil((design.prompt.max + design.outputTokens) / 16) + 16,
    ),
    cost: {
      profile,
      tensorParallelSize: tp,
      serialFraction: design.serialFraction,
      timeScale: design.timeScale * speed,
    },
  });
}

export interface VirtualPoint {
  n: number;
  repeat: number;
  x: number;
}

/** One campaign: a point (output tokens/s in the window) per GPU count × repeat. */
export function runVirtualCampaign(design: VirtualDesign, seed: number): VirtualPoint[] {
  const profile = PROFILES[DEFAULT_PROFILE] as SimProfile;
  const points: VirtualPoint[] = [];
  let run = 0;
  for (const n of design.gpus) {
    for (let repeat = 1; repeat <= design.repeats; repeat++) {
      run++;
      const rng = createRng(seed, run);
      const speed = Math.max(0.5, 1 + design.jitter * rng.normal());
      const { mean, std, min, max } = design.prompt;
      let nextId = 1000;
      const result = runClosedLoop({
        engines: [engineFor(profile, design, n, speed)],
        users: design.users,
        request: () => {
          const length = Math.round(Math.min(max, Math.max(min, mean + std * rng.normal())));
          // Distinct ids: no two prompts share a prefix.
          const ids = new Array<number>(length);
          for (let i = 0; i < length; i++) ids[i] = nextId + i;
          nextId += length;
          return { promptTokenIds: ids, outputTokens: design.outputTokens };
        },
        durationMs: design.warmupMs + design.windowMs,
        warmupMs: design.warmupMs,
        startMs: (user) => (1000 * user) / design.spawnRate,
      });
      points.push({ n, repeat, x: result.outputTokensPerSec });
    }
  }
  return points;
}
