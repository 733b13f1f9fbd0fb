import type { Command } from "commander";
import { DEFAULT_BOOTSTRAP, DEFAULT_SEED, formatFitTable, runFits } from "../analysis/fit/index.ts";
import { METRICS, type Metric } from "../analysis/fit/summary.ts";
import { ConfigError } from "../common/errors.ts";

function wholeNumber(flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0)
      throw new ConfigError(`expected a whole number ≥ 0, got "${text}"`, { field: flag });
    return value;
  };
}

export function registerFit(program: Command): void {
  program
    .command("fit")
    .description(
      "fit Amdahl (with a bootstrap CI on s), USL and Karp–Flatt per group; writes agg/amdahl_fit.csv and agg/scaling_fits.parquet",
    )
    .option("--results <dir>", "results directory", "results")
    .option("--metric <name>", `throughput column: ${METRICS.join(", ")}`, "output_tokens_per_s")
    .option("--by <columns>", "group by these columns (comma-separated) instead of every factor")
    .option(
      "--bootstrap <B>",
      "bootstrap replicates for the CI on s",
      wholeNumber("--bootstrap"),
      DEFAULT_BOOTSTRAP,
    )
    .option("--seed <S>", "bootstrap seed", wholeNumber("--seed"), DEFAULT_SEED)
    .action(
      async (opts: {
        results: string;
        metric: string;
        by?: string;
        bootstrap: number;
        seed: number;
      }) => {
        const result = await runFits({
          resultsDir: opts.results,
          metric: opts.metric as Metric,
          by: opts.by
            ?.split(",")
            .map((s) => s.trim())
            .filter((s) => s !== ""),
          bootstrap: opts.bootstrap,
          seed: opts.seed,
        });
        console.log(formatFitTable(result));
      },
    );
}
