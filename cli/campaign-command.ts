/**
 * What `vscale campaign` and `vscale run` do once their flags are parsed:
 * run, print the summary, analyse, set the exit code. Loaded lazily by the
 * commands so other subcommands (a simulator start, say) never pay for it.
 */

import { fingerprintPlan } from "../campaign/fingerprint.ts";
import { chooseProgressMode, colorAllowed, createProgress } from "../campaign/progress.ts";
import { decideAll, describeChanges, matchesAny } from "../campaign/resume.ts";
import { runCampaign } from "../campaign/run-campaign.ts";
import { exitCodeForSignal, installInterruptHandlers } from "../campaign/signals.ts";
import { campaignExitCode, formatCampaignSummary } from "../campaign/summary.ts";
import { ConfigError } from "../common/errors.ts";
import type { Plan } from "../config/expand.ts";
import { formatPlan, loadCheckedPlan } from "./plan.ts";

export interface CampaignCliOptions {
  results: string;
  force?: boolean;
  retryFailed?: boolean;
  only?: string[];
  dryRun?: boolean;
  quiet?: boolean;
  analyze: boolean;
  /** A named preset (config/presets/) merged under the matrix. */
  preset?: string;
}

/**
 * A glob that selects nothing is a typo, not a request to do nothing: without
 * this the run would "succeed" and then analyse whatever results lie around.
 */
function assertOnlyMatches(plan: Plan, matrix: string, only: string[] | undefined): void {
  if (!only || only.length === 0) return;
  if (plan.experiments.some((e) => matchesAny(e.id, only))) return;
  const ids = plan.experiments.map((e) => e.id);
  const shown = ids.slice(0, 5).join(", ") + (ids.length > 5 ? ", …" : "");
  throw new ConfigError(`${only.join(" ")} matches no experiment`, {
    file: matrix,
    field: "--only",
    hint: `ids look like ${shown}; \`vscale plan\` lists them all`,
  });
}

/** Shared by `campaign` and `run`: run, print the summary, analyse, set the exit code. */
export async function runCampaignCli(matrix: string, opts: CampaignCliOptions): Promise<void> {
  const plan = await loadCheckedPlan(matrix, process.env, opts.preset);
  assertOnlyMatches(plan, matrix, opts.only);
  if (opts.dryRun) {
    console.log(formatPlan(plan));
    const decisions = await decideAll(plan.experiments, {
      resultsDir: opts.results,
      campaign: plan.campaign,
      force: opts.force,
      retryFailed: opts.retryFailed,
      only: opts.only,
      fingerprints: await fingerprintPlan(plan, process.env),
    });
    const run = [...decisions.values()].filter((d) => d.action === "run").length;
    console.log(
      `\nWould run ${run} of ${plan.experiments.length} experiments (results: ${opts.results})`,
    );
    const changed = describeChanges(decisions);
    if (changed.length > 0) {
      console.log("Re-running because their inputs changed since they ran:");
      for (const line of changed) console.log(`  ${line}`);
    }
    return;
  }
  const isTTY = process.stderr.isTTY === true && process.stdout.isTTY === true;
  const progress = createProgress({
    mode: chooseProgressMode({ quiet: opts.quiet, isTTY }),
    color: colorAllowed(isTTY),
  });
  const interrupt = installInterruptHandlers((line) => console.error(`vscale: ${line}`));
  try {
    const result = await runCampaign(plan, {
      resultsDir: opts.results,
      force: opts.force,
      retryFailed: opts.retryFailed,
      only: opts.only,
      signal: interrupt.controller.signal,
      progress,
    });
    console.log(formatCampaignSummary(result));
    const signal = interrupt.received();
    if (signal) {
      process.exitCode = exitCodeForSignal(signal);
      return;
    }
    if (opts.analyze) {
      // Aggregation, fits and the report pull in Parquet and Vega: load them only when used.
      const { analyzeCampaign } = await import("./analyze.ts");
      const analysis = await analyzeCampaign({
        resultsDir: opts.results,
        campaign: plan.campaign,
        ...(plan.matrix.slo ? { slo: plan.matrix.slo } : {}),
        // The same warnings `vscale aggregate` prints: a damaged input is never silent here either.
        warn: (line) => console.error(`vscale: aggregate: ${line}`),
      });
      for (const line of analysis.lines) console.log(line);
    }
    process.exitCode = campaignExitCode(result);
  } finally {
    interrupt.uninstall();
  }
}
