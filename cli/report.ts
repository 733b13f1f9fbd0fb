import { join } from "node:path";
import type { Command } from "commander";
import { fitPaths } from "../analysis/fit/index.ts";
import { buildReport } from "../analysis/report/index.ts";
import { REPORT_FILES } from "../formats/agg-layout.ts";
import { fitOptionsFrom, withFitOptions } from "./fit.ts";

export function registerReport(program: Command): void {
  withFitOptions(
    program
      .command("report")
      .description(
        "write <results>/report.html (self-contained) and <results>/figs/*.svg; takes the fit flags of `vscale fit`",
      ),
  ).action(async (flags: Parameters<typeof fitOptionsFrom>[0]) => {
    const { html, figs, refitted } = await buildReport({
      ...fitOptionsFrom(flags),
      log: (line) => console.log(line),
    });
    if (refitted === null) console.log(`Drew the fits in ${fitPaths(flags.results).parquet}`);
    console.log(
      `Wrote ${html} and ${figs.length} figures in ${join(flags.results, REPORT_FILES.figsDir)}`,
    );
  });
}
