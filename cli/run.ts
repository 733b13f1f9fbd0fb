/**
 * `vscale run <matrix> <experiment-id>`: one experiment with its own server
 * (seed 004's run_single.sh), re-run even if it finished before.
 */
import type { Command } from "commander";
import { ConfigError } from "../common/errors.ts";
import { closest } from "../config/suggest.ts";
import { loadCheckedPlan } from "./plan.ts";

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run one experiment of a matrix with its server (re-runs it if it exists)")
    .argument("<matrix>", "experiment matrix YAML")
    .argument("<experiment-id>", "an id from `vscale plan`")
    .option("--results <dir>", "results directory", "results")
    .option("--quiet", "no progress output; only the summary")
    .option("--analyze", "aggregate, fit and report afterwards")
    .action(
      async (
        matrix: string,
        id: string,
        opts: { results: string; quiet?: boolean; analyze?: boolean },
      ) => {
        const plan = await loadCheckedPlan(matrix);
        const ids = plan.experiments.map((e) => e.id);
        if (!ids.includes(id)) {
          const guess = closest(id, ids);
          throw new ConfigError(`no experiment "${id}" in this matrix`, {
            file: matrix,
            hint: guess ? `did you mean ${guess}?` : "`vscale plan` lists the ids",
          });
        }
        const { runCampaignCli } = await import("./campaign-command.ts");
        // An exact id contains no glob characters (ids are [A-Za-z0-9._-]).
        await runCampaignCli(matrix, {
          results: opts.results,
          force: true,
          only: [id],
          quiet: opts.quiet,
          analyze: opts.analyze ?? false,
        });
      },
    );
}
