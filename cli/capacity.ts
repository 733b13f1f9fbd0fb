import type { Command } from "commander";
import { formatCapacity, writeCapacity } from "../analysis/capacity/index.ts";
import { readSummary } from "../analysis/fit/summary.ts";
import type { SloSpec } from "../config/slo.ts";
import { sloFrom } from "./fit.ts";

export function registerCapacity(program: Command): void {
  program
    .command("capacity")
    .description(
      "capacity at an SLO per scaling group and GPU count (highest offered rate meeting every objective, interpolated between measured rates, 95% CI over repeats; a bound, labelled ≥ or <, when the rates never crossed it); writes agg/capacity.csv",
    )
    .option("--results <dir>", "results directory", "results")
    .requiredOption("--slo <objectives>", "e.g. ttft_ms_p99=500,tpot_ms_p99=50")
    .action(async (flags: { results: string; slo: string }) => {
      const slo = sloFrom(flags, true) as SloSpec;
      const { file, rows } = await writeCapacity(
        flags.results,
        await readSummary(flags.results),
        slo,
      );
      for (const line of formatCapacity(rows, slo)) console.log(line);
      console.log(`wrote ${file}`);
    });
}
