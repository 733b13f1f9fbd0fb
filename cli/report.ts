import { join } from "node:path";
import type { Command } from "commander";
import { CAPACITY_METRIC } from "../analysis/capacity/index.ts";
import { fitPaths } from "../analysis/fit/index.ts";
import { buildReport } from "../analysis/report/index.ts";
import { REPORT_FILES } from "../formats/agg-layout.ts";
import { fitOptionsFrom, fitRequestFrom, runFitRequest, sloFrom, withFitOptions } from "./fit.ts";

export function registerReport(program: Command): void {
  withFitOptions(
    program
      .command("report")
      .description(
        "write <results>/report.html (self-contained) and <results>/figs/*.svg; takes the fit flags of `vscale fit`",
      ),
  ).action(async (flags: Parameters<typeof fitRequestFrom>[0]) => {
    const slo = sloFrom(flags, false);
    const request = await fitRequestFrom(flags);
    // A capacity fit runs on capacity rows; the figures still draw the summary itself.
    const { html, figs, refitted } = await buildReport({
      ...fitOptionsFrom(flags),
      ...(request.metric === CAPACITY_METRIC ? { fits: await runFitRequest(request) } : {}),
      ...(slo ? { slo } : {}),
      log: (line) => console.log(line),
    });
    if (refitted === null) console.log(`Drew the fits in ${fitPaths(flags.results).parquet}`);
    console.log(
      `Wrote ${html} and ${figs.length} figures in ${join(flags.results, REPORT_FILES.figsDir)}`,
    );
  });
}
