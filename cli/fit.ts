import type { Command } from "commander";
import { runCapacityFits } from "../analysis/capacity/fit.ts";
import { CAPACITY_METRIC, capacitySummary, isCapacitySummary } from "../analysis/capacity/index.ts";
import {
  DEFAULT_BOOTSTRAP,
  DEFAULT_METRIC,
  DEFAULT_SEED,
  type FitResult,
  formatFitTable,
  type RunFitsOptions,
  runFits,
} from "../analysis/fit/index.ts";
import { METRICS, type Metric, readSummary } from "../analysis/fit/summary.ts";
import { ConfigError } from "../common/errors.ts";
import { parseSloFlag, type SloSpec } from "../config/slo.ts";

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
  slo?: string;
}

/** The fit flags, shared by `vscale fit` and `vscale report` so both draw the same fits. */
export function withFitOptions(command: Command): Command {
  return command
    .option("--results <dir>", "results directory", "results")
    .option(
      "--metric <name>",
      `throughput column: ${METRICS.join(", ")}, or capacity (with --slo)`,
      DEFAULT_METRIC,
    )
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
    )
    .option(
      "--slo <objectives>",
      "objectives for --metric capacity, e.g. ttft_ms_p99=500,tpot_ms_p99=50 (the matrix's `slo`)",
    );
}

/** `--slo` parsed, or a ConfigError (exit 2) naming the flag. */
export function sloFrom(flags: { slo?: string }, required: boolean): SloSpec | undefined {
  if (flags.slo === undefined) {
    if (!required) return undefined;
    throw new ConfigError("--metric capacity needs the objectives", {
      field: "--slo",
      hint: "e.g. --slo ttft_ms_p99=500,tpot_ms_p99=50",
    });
  }
  const slo = parseSloFlag(flags.slo);
  if (typeof slo === "string") throw new ConfigError(slo, { field: "--slo" });
  return slo;
}

/**
 * `--metric capacity` (or capacity_rps): the fit runs on capacity at the SLO,
 * from the summary's rate sweeps (analysis/capacity/), not on a summary column.
 */
export async function fitRequestFrom(flags: FitFlags): Promise<RunFitsOptions> {
  const options = fitOptionsFrom(flags);
  if (flags.metric !== "capacity" && flags.metric !== CAPACITY_METRIC) return options;
  const slo = sloFrom(flags, true) as SloSpec;
  const summary = capacitySummary(await readSummary(flags.results), slo);
  return { ...options, metric: CAPACITY_METRIC, summary };
}

/** Runs the request: a capacity fit refuses capacities that are only bounds (analysis/capacity/fit.ts). */
export function runFitRequest(request: RunFitsOptions): Promise<FitResult> {
  const { summary } = request;
  return summary !== undefined && isCapacitySummary(summary)
    ? runCapacityFits({ ...request, summary })
    : runFits(request);
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
    console.log(formatFitTable(await runFitRequest(await fitRequestFrom(flags))));
  });
}
