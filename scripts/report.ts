import type { Command } from "commander";
import { buildReport } from "../analysis/report/index.ts";

export function registerReport(program: Command): void {
  program
    .command("report")
    .description("write <results>/report.html (self-contained) and <results>/figs/*.svg")
    .option("--results <dir>", "results directory", "results")
    .action(async (opts: { results: string }) => {
      const { html, figs } = await buildReport({ resultsDir: opts.results });
      console.log(`Wrote ${html} and ${figs.length} figures in ${opts.results}/figs`);
    });
}
