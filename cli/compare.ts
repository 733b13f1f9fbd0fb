import type { Command } from "commander";
import { compareResults } from "../analysis/compare/compare.ts";
import { comparisonHtml, formatComparison } from "../analysis/compare/format.ts";
import { writeFileAtomic } from "../common/atomic-write.ts";
import { ConfigError } from "../common/errors.ts";
import { sloFrom } from "./fit.ts";
import { intFlag } from "./flag-values.ts";

function fraction(text: string): number {
  const value = text.endsWith("%") ? Number(text.slice(0, -1)) / 100 : Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigError(`expected a fraction such as 0.05 or 5%, got "${text}"`, {
      field: "--threshold",
    });
  return value;
}

function whole(text: string): number {
  return intFlag(text, "--bootstrap", { limit: "bootstrap" });
}

export function registerCompare(program: Command): void {
  program
    .command("compare <a> <b>")
    .description(
      "compare two results directories or campaigns (results/raw/<name>): per matched experiment set and metric the change with a 95% CI from a hierarchical bootstrap (runs, then requests within runs), the change in fitted s and capacity; exit 1 on any regression (worse than the threshold and the A/A noise floor, CI excluding 0)",
    )
    .option(
      "--threshold <fraction>",
      "worse by more than this is a regression (0.05 or 5%)",
      fraction,
      0.05,
    )
    .option("--bootstrap <B>", "bootstrap replicates per figure", whole, 1000)
    .option("--seed <S>", "bootstrap seed", whole, 1)
    .option("--slo <objectives>", "also compare capacity at these objectives, e.g. ttft_ms_p99=500")
    .option("--html <file>", "write the comparison page here")
    .action(
      async (
        a: string,
        b: string,
        flags: { threshold: number; bootstrap: number; seed: number; slo?: string; html?: string },
      ) => {
        const slo = sloFrom(flags, false);
        const result = await compareResults({
          a,
          b,
          threshold: flags.threshold,
          bootstrap: flags.bootstrap,
          seed: flags.seed,
          ...(slo ? { slo } : {}),
          warn: (line) => console.error(`warning: ${line}`),
        });
        for (const line of formatComparison(result)) console.log(line);
        if (flags.html) {
          await writeFileAtomic(flags.html, comparisonHtml(result, new Date().toISOString()));
          console.log(`wrote ${flags.html}`);
        }
        if (result.regressions > 0) process.exitCode = 1;
      },
    );
}
