/**
 * `vscale fit-steps FILE… [--out profile.json]`: fit a step-time profile from
 * measured steps (seed 000's step CSVs, profilemate's forward_pass_timing.csv,
 * a grid CSV) for `vscale sim serve --sim-profile profile.json`.
 */
import type { Command } from "commander";
import {
  DEFAULT_BASE_PROFILE,
  DEFAULT_LAYERS,
  fitStepFiles,
  formatStepProfile,
} from "../analysis/steps/index.ts";
import { writeJsonAtomic } from "../common/atomic-write.ts";
import { ConfigError } from "../common/errors.ts";

function positiveInt(flag: string, min = 1) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      throw new ConfigError(`expected an integer ≥ ${min}, got "${text}"`, { field: flag });
    return value;
  };
}

interface FitStepsFlags {
  out?: string;
  tp: number;
  layers: number;
  folds: number;
  seed: number;
  baseProfile: string;
}

export function registerFitSteps(program: Command): void {
  program
    .command("fit-steps")
    .description("fit a step-time profile for the simulator from measured steps")
    .argument("<files...>", "execution_stats_*.csv, forward_pass_timing.csv or grid CSV files")
    .option("--out <file>", "write the profile here (JSON)")
    .option("--tp <N>", "tensor-parallel size of files that do not say", positiveInt("--tp"), 1)
    .option(
      "--layers <N>",
      "layers a per-layer time (ms_per_layer) is multiplied by",
      positiveInt("--layers"),
      DEFAULT_LAYERS,
    )
    .option("--folds <K>", "held-out folds", positiveInt("--folds", 2), 5)
    .option("--seed <n>", "seed of the fold assignment", positiveInt("--seed", 0), 0)
    .option(
      "--base-profile <name>",
      "built-in simulator profile for memory and KV figures",
      DEFAULT_BASE_PROFILE,
    )
    .action(async (files: string[], flags: FitStepsFlags) => {
      const { profile, warnings } = await fitStepFiles(files, flags);
      for (const warning of warnings) console.error(`vscale fit-steps: warning: ${warning}`);
      console.log(formatStepProfile(profile));
      if (flags.out) {
        await writeJsonAtomic(flags.out, profile);
        console.log(`wrote ${flags.out}`);
      }
    });
}
