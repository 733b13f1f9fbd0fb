import type { Command } from "commander";
import {
  DEFAULT_BOOTSTRAP,
  DEFAULT_METRIC,
  DEFAULT_SEED,
  formatFitTable,
  type RunFitsOptions,
  runFits,
} from "../analysis/fit/index.ts";
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

interface FitFlags {
  results: string;
  metric: string;
  by?: string;
  bootstrap: number;
  seed: number;
  excludeClientLimited: boolean;
}

/** The fit flags, shared by `vscale fit` and `vscale report` so both draw the same fits. */
export function withFitOptions(command: Command): Command {
  return command
    .option("--results <dir>", "results directory", "results")
    .option("--metric <name>", `throughput column: ${METRICS.join(", ")}`, DEFAULT_METRIC)
    .option(
      "--by <columns>",
      "group by these columns (comma-separated) instead of campaign, every factor, model and parallelism; leave out campaign to pool campaigns",
    )
    .option(
      "--bootstrap <B>",
      "bootstrap replicates for the CI on s",
      wholeNumber("--bootstrap"),
      DEFAULT_BOOTSTRAP,
    )
    .option("--seed <S>", "bootstrap seed", wholeNumber("--seed"), DEFAULT_SEED)
    .option(
      "--exclude-client-limited",
      "leave out experiments the load's saturation guard flagged (summary client_limited)",
      false,
    );
}

export function fitOptionsFrom(flags: FitFlags): RunFitsOptions {
  return {
    resultsDir: flags.results,
    metric: flags.metric as Metric,
    by: flags.by
      ?.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    bootstrap: flags.bootstrap,
    seed: flags.seed,
    excludeClientLimited: flags.excludeClientLimited,
  };
}

export function registerFit(program: Command): void {
  withFitOptions(
    program
      .command("fit")
      .description(
        "fit Amdahl (with a bootstrap CI on s), USL and Karp–Flatt per group; writes agg/amdahl_fit.csv and agg/scaling_fits.parquet",
      ),
  ).action(async (flags: FitFlags) => {
    console.log(formatFitTable(await runFits(fitOptionsFrom(flags))));
  });
}
