/**
 * `vscale campaign [matrix]`: the main job. Runs every experiment of the
 * matrix (resuming: finished ones are skipped), then aggregates, fits and
 * builds the report. A thin layer over campaign/*.
 */
import type { Command } from "commander";
import { DEFAULT_MATRIX } from "../config/plan.ts";
import type { CampaignCliOptions } from "./campaign-command.ts";

export function registerCampaign(program: Command): void {
  program
    .command("campaign")
    .description(
      "run a scaling campaign: every experiment of the matrix, then aggregate, fit, report",
    )
    .argument("[matrix]", "experiment matrix YAML", DEFAULT_MATRIX)
    .option("--results <dir>", "results directory", "results")
    .option("--force", "re-run experiments that already finished ok")
    .option("--retry-failed", "re-run experiments that failed")
    .option("--only <glob...>", "only experiment ids matching these globs (* and ?)")
    .option("--dry-run", "show the plan and what would run; start nothing")
    .option("--quiet", "no progress output; only the summary")
    .option("--no-analyze", "skip aggregation, fits and the report")
    .option(
      "--preset <name>",
      "merge a named preset (chat, rag, summarize, prefill-heavy: config/presets/) under the matrix",
    )
    .action(async (matrix: string, opts: CampaignCliOptions) => {
      const { runCampaignCli } = await import("./campaign-command.ts");
      await runCampaignCli(matrix, opts);
    });
}
