/**
 * `vscale`: the command-line entry point. A thin layer: each subcommand lives
 * in its own module (`cli/<name>.ts`) that parses flags and calls library
 * functions the tests also call directly.
 */
import { Command, CommanderError } from "commander";
import { isVscaleError } from "../common/errors.ts";
import { registerAggregate } from "./aggregate.ts";
import { registerBench } from "./bench.ts";
import { registerCampaign } from "./campaign.ts";
import { registerFit } from "./fit.ts";
import { registerFitSteps } from "./fit-steps.ts";
import { registerLoad } from "./load.ts";
import { registerPlan } from "./plan.ts";
import { registerReport } from "./report.ts";
import { registerRun } from "./run.ts";
import { registerSim } from "./sim.ts";

// `vscale plan | head` closes our stdout early: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const program = new Command()
  .name("vscale")
  .description("How does this vLLM deployment scale with GPUs, and why not linearly?")
  .showHelpAfterError()
  .exitOverride();

registerPlan(program);
registerBench(program);
registerSim(program);
registerAggregate(program);
registerCampaign(program);
registerRun(program);
registerFit(program);
registerFitSteps(program);
registerReport(program);
registerLoad(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed its message (or help); usage errors are user errors.
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (isVscaleError(error)) {
    console.error(`vscale: ${error.format()}`);
    process.exit(error.exitCode);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}
