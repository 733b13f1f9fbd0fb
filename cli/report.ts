import type { Command } from "commander";
import { buildReport } from "../analysis/report/index.ts";
import { fitOptionsFrom, withFitOptions } from "./fit.ts";

export function registerReport(program: Command): void {
  withFitOptions(
    program
      .command("report")
      .description(
        "write <results>/report.html (self-contained) and <results>/figs/*.svg; takes the fit flags of `vscale fit`",
      ),
  ).action(async (flags: Parameters<typeof fitOptionsFrom>[0]) => {
    const { html, figs } = await buildReport(fitOptionsFrom(flags));
    console.log(`Wrote ${html} and ${figs.length} figures in ${flags.results}/figs`);
  });
}
