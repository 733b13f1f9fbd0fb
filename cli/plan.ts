import type { Command } from "commander";
import { stringify } from "yaml";
import { writeFileAtomic } from "../common/atomic-write.ts";
import { ConfigError } from "../common/errors.ts";
import { formatTextTable } from "../common/text-table.ts";
import { formatDurationMs } from "../config/duration.ts";
import type { Plan } from "../config/expand.ts";
import { DEFAULT_MATRIX, loadPlan } from "../config/plan.ts";
import { readPreset } from "../config/presets.ts";
import { FACTOR_NAMES } from "../config/schema.ts";
import { shortWindowNote } from "../config/window-estimate.ts";
import { readPromptFile } from "../load/node/prompt-files.ts";

/**
 * The plan with everything it needs to run checked: the environment
 * variables it names and every prompt file it reads (with the runner's own
 * reader). `plan`, `campaign` and `run` all start here, so bad input is one
 * line and exit 2 before any server starts.
 */
export async function loadCheckedPlan(
  matrix: string,
  env: NodeJS.ProcessEnv = process.env,
  presetName?: string,
): Promise<Plan> {
  const preset = presetName === undefined ? undefined : await readPreset(presetName);
  try {
    return await loadPlan(matrix, { env, readPromptFile, ...(preset ? { preset } : {}) });
  } catch (error) {
    throw preset && presetName ? withPresetHint(error, presetName, preset) : error;
  }
}

/**
 * An error in a section the preset also fills names what the preset put there: the
 * matrix line it points at may be fine on its own and clash only with the preset
 * (`load.mode: closed` under `--preset chat`, whose `load.sweep` needs an open loop).
 */
function withPresetHint(error: unknown, name: string, preset: Record<string, unknown>): unknown {
  if (!(error instanceof ConfigError)) return error;
  const section = error.location.field?.split(".")[0];
  const part = section === undefined ? undefined : preset[section];
  if (section === undefined || part === null || typeof part !== "object") return error;
  const keys = Array.isArray(part) ? [section] : Object.keys(part).map((k) => `${section}.${k}`);
  const said = `--preset ${name} sets ${keys.join(", ")} under this file`;
  const hint = error.location.hint ? `${error.location.hint}; ${said}` : said;
  return new ConfigError(error.message, { ...error.location, hint }, { cause: error });
}

/** Shell-like quoting for display only: the argv is never passed through a shell. */
function showArgv(argv: string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_./:=,{}@+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(" ");
}

export function formatPlan(plan: Plan): string {
  const factorNames = FACTOR_NAMES.filter((n) =>
    plan.experiments.some((e) => e.factors[n] !== undefined),
  );
  const lines: string[] = [];
  lines.push(`campaign ${plan.campaign}  (${plan.file})`);
  lines.push(
    `${plan.experiments.length} experiments in ${plan.groups.length} server groups; ` +
      `server ${plan.matrix.server.kind}, model ${plan.matrix.server.model}, ` +
      `load ${plan.matrix.load.engine}/${plan.matrix.load.mode}`,
  );
  lines.push("");
  lines.push("Experiments");
  const rows = [["id", "group", ...factorNames, "warmup+duration"]];
  for (const e of plan.experiments) {
    rows.push([
      e.id,
      e.groupId,
      ...factorNames.map((n) => {
        const v = e.factors[n];
        return v === undefined ? "" : String(v);
      }),
      `${formatDurationMs(e.load.warmup)}+${formatDurationMs(e.load.duration)}`,
    ]);
  }
  lines.push(formatTextTable(rows));
  const short = plan.experiments.flatMap((e) => {
    const note = shortWindowNote(e.load);
    return note === null ? [] : [`  ${e.id}: ${note}`];
  });
  if (short.length > 0) {
    lines.push("");
    lines.push(
      "Short windows (a latency statistic needs 20 requests, a p99 100: docs/statistics.md)",
    );
    lines.push(...short);
  }
  lines.push("");
  lines.push("Server groups");
  for (const g of plan.groups) {
    const target = g.kind === "external" ? `external ${g.url}` : showArgv(g.argv);
    lines.push(
      `  ${g.id}  (${g.experimentIds.length} experiments, ${g.gpus} GPU${g.gpus > 1 ? "s" : ""})`,
    );
    lines.push(`    ${target}`);
    const env = Object.entries(g.env);
    if (env.length > 0) lines.push(`    env: ${env.map(([k, v]) => `${k}=${v}`).join(" ")}`);
  }
  lines.push("");
  const { loadMs, serverStartMs, totalMs } = plan.estimate;
  lines.push(
    `Estimated wall time: ${formatDurationMs(totalMs)} ` +
      `(load ${formatDurationMs(loadMs)} + server starts ${formatDurationMs(serverStartMs)})`,
  );
  return lines.join("\n");
}

/** The plan as JSON for machines: the experiments and groups as the campaign runner sees them. */
export function planJson(plan: Plan): unknown {
  return {
    campaign: plan.campaign,
    file: plan.file,
    counts: { experiments: plan.experiments.length, groups: plan.groups.length },
    estimate_ms: plan.estimate,
    experiments: plan.experiments.map((e) => ({
      id: e.id,
      group: e.groupId,
      repeat: e.repeat,
      seed: e.seed,
      included: e.included,
      factors: e.factors,
      prompt_set: e.promptSet.name,
      warmup_ms: e.load.warmup,
      duration_ms: e.load.duration,
    })),
    groups: plan.groups.map((g) => ({
      id: g.id,
      kind: g.kind,
      argv: g.argv,
      env: g.env,
      url: g.url ?? null,
      gpus: g.gpus,
      experiments: g.experimentIds,
    })),
  };
}

interface PlanOptions {
  json?: boolean;
  preset?: string;
  sweep?: string;
  c?: string;
  m?: string;
  b?: string;
  blockSize?: string;
}

/** Seed 002_eceddc5d9b8009c0's sweep ranges for C (prompt tokens), B (max_num_seqs) and block_size. */
export const SWEEP_DEFAULTS = {
  c: [256, 512, 1024, 2048],
  // The seed's M (16–128 blocks) cannot hold one 2048-token prompt, and vLLM refuses a KV cache
  // smaller than max_model_len; these span scarce to ample for the default C and B.
  m: [1024, 2048, 4096, 8192],
  b: [16, 32, 64, 128],
  blockSize: [8, 16, 32],
} as const;

export interface SweepRanges {
  c: readonly number[];
  m: readonly number[];
  b: readonly number[];
  blockSize: readonly number[];
}

const SWEEP_MAX_TOKENS = 64;

/**
 * Seed 002's parameter sweep as a matrix: one synthetic prompt set per C
 * (fixed length), and factors num_gpu_blocks (M → --num-gpu-blocks-override),
 * max_num_seqs (B), block_size, on the simulator with load.profile so every
 * experiment gets its bottleneck class and step phases.
 */
export function sweepMatrix(r: SweepRanges): string {
  const prompts = Object.fromEntries(
    r.c.map((c) => [`c${c}`, { tokens: { dist: "fixed", mean: c }, count: 64 }]),
  );
  const matrix = {
    campaign: "sweep-c-m-b-bs",
    description: "seed 002 sweep: prompt tokens C × KV blocks M × max_num_seqs B × block_size",
    seed: 2,
    server: {
      kind: "sim",
      model: "meta-llama/Llama-3.1-8B-Instruct",
      parallelism: "tp",
      port: "auto",
      health_timeout: "60s",
      start_estimate: "2s",
      args: ["--sim-time-scale", "0.5"],
    },
    load: {
      engine: "node",
      mode: "closed",
      spawn_rate: 32,
      warmup: "2s",
      duration: "5s",
      max_tokens: SWEEP_MAX_TOKENS,
      ignore_eos: true,
      timeout: "60s",
      profile: { at: "1s", for: "3s" },
    },
    prompts,
    factors: {
      gpus: [1],
      // Enough users to fill the largest batch, so B, not the load, limits it.
      users: [Math.max(...r.b)],
      prompt_set: Object.keys(prompts),
      num_gpu_blocks: [...r.m],
      max_num_seqs: [...r.b],
      block_size: [...r.blockSize],
      max_model_len: [Math.max(...r.c) + SWEEP_MAX_TOKENS],
    },
  };
  return stringify(matrix);
}

function intList(flag: string, fallback: readonly number[]) {
  return (text: string | undefined): number[] => {
    if (text === undefined) return [...fallback];
    const values = text.split(",").map((v) => Number(v.trim()));
    if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1))
      throw new ConfigError(`expected positive integers separated by commas, got "${text}"`, {
        field: flag,
      });
    return values;
  };
}

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description(
      "show the experiments and server groups a matrix expands to, and the estimated wall time",
    )
    .argument("[matrix]", "experiment matrix YAML", DEFAULT_MATRIX)
    .option("--json", "print the plan as JSON")
    .option("--preset <name>", "merge a named preset (config/presets/) under the matrix")
    .option(
      "--sweep <file>",
      "write seed 002's C × M × B × block_size sweep matrix to FILE, then plan it",
    )
    .option("--c <list>", "sweep: prompt tokens per prompt set", SWEEP_DEFAULTS.c.join(","))
    .option("--m <list>", "sweep: KV blocks (num_gpu_blocks)", SWEEP_DEFAULTS.m.join(","))
    .option("--b <list>", "sweep: max_num_seqs", SWEEP_DEFAULTS.b.join(","))
    .option("--block-size <list>", "sweep: block_size", SWEEP_DEFAULTS.blockSize.join(","))
    .action(async (given: string, opts: PlanOptions) => {
      let matrix = given;
      if (opts.sweep !== undefined) {
        const ranges = {
          c: intList("--c", SWEEP_DEFAULTS.c)(opts.c),
          m: intList("--m", SWEEP_DEFAULTS.m)(opts.m),
          b: intList("--b", SWEEP_DEFAULTS.b)(opts.b),
          blockSize: intList("--block-size", SWEEP_DEFAULTS.blockSize)(opts.blockSize),
        };
        await writeFileAtomic(opts.sweep, sweepMatrix(ranges));
        matrix = opts.sweep;
      }
      const plan = await loadCheckedPlan(matrix, process.env, opts.preset);
      console.log(opts.json ? JSON.stringify(planJson(plan), null, 2) : formatPlan(plan));
    });
}
