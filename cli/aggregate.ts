import type { Command } from "commander";
import { aggregate, DEFAULT_SLO } from "../analysis/aggregate/index.ts";
import { ConfigError } from "../common/errors.ts";

function positiveMs(flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) {
      throw new ConfigError(`expected a number of milliseconds > 0, got "${text}"`, {
        field: flag,
      });
    }
    return value;
  };
}

export function registerAggregate(program: Command): void {
  program
    .command("aggregate")
    .description("merge results/raw/** into Parquet tables and a CSV summary in results/agg/")
    .option("--campaign <name>", "only this campaign (default: every campaign under raw/)")
    .option("--results <dir>", "results directory holding raw/", "results")
    .option("--include-incomplete", "keep experiments without status.json (as interrupted)")
    .option(
      "--profiles <dir...>",
      "extra folders with server-side profiles (step CSVs, profilemate sessions, traces)",
    )
    .option(
      "--slo-ttft-ms <ms>",
      "goodput objective for TTFT",
      positiveMs("--slo-ttft-ms"),
      DEFAULT_SLO.ttftMs,
    )
    .option(
      "--slo-tpot-ms <ms>",
      "goodput objective for TPOT",
      positiveMs("--slo-tpot-ms"),
      DEFAULT_SLO.tpotMs,
    )
    .action(
      async (opts: {
        campaign?: string;
        results: string;
        includeIncomplete?: boolean;
        profiles?: string[];
        sloTtftMs: number;
        sloTpotMs: number;
      }) => {
        const result = await aggregate({
          resultsDir: opts.results,
          campaign: opts.campaign,
          includeIncomplete: opts.includeIncomplete ?? false,
          profiles: opts.profiles,
          slo: { ttftMs: opts.sloTtftMs, tpotMs: opts.sloTpotMs },
          log: (line) => console.error(line),
        });
        console.log(
          `${result.experiments} experiments → ${result.outDir}` +
            (result.skipped.length > 0 ? ` (${result.skipped.length} skipped)` : ""),
        );
        for (const file of result.files) console.log(`  ${file}`);
      },
    );
}
