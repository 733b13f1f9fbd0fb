import type { Command } from "commander";
import { formatTextTable } from "../common/text-table.ts";
import { formatDurationMs } from "../config/duration.ts";
import type { Plan } from "../config/expand.ts";
import { DEFAULT_MATRIX, loadPlan } from "../config/plan.ts";
import { readPreset } from "../config/presets.ts";
import { FACTOR_NAMES } from "../config/schema.ts";
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
  return loadPlan(matrix, { env, readPromptFile, ...(preset ? { preset } : {}) });
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

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description(
      "show the experiments and server groups a matrix expands to, and the estimated wall time",
    )
    .argument("[matrix]", "experiment matrix YAML", DEFAULT_MATRIX)
    .option("--json", "print the plan as JSON")
    .option("--preset <name>", "merge a named preset (config/presets/) under the matrix")
    .action(async (matrix: string, opts: { json?: boolean; preset?: string }) => {
      const plan = await loadCheckedPlan(matrix, process.env, opts.preset);
      console.log(opts.json ? JSON.stringify(planJson(plan), null, 2) : formatPlan(plan));
    });
}
