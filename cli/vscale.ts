/**
 * `vscale`: the command-line entry point. A thin layer: each subcommand lives
 * in its own module (`cli/<name>.ts`) that parses flags and calls library
 * functions the tests also call directly.
 */
import { Command, CommanderError } from "commander";
import { escapeControl, isVscaleError, unexpectedErrorText } from "../common/errors.ts";

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

type Register = (program: Command) => void;

/**
 * Each subcommand's module, loaded only when that command runs: importing
 * every command's dependencies (DuckDB, Vega, undici, the simulator) costs
 * about a second of CPU per start, paid by every server and test process.
 * Help and unknown commands load them all, so listings and "did you mean"
 * still see every command. The order here is the order `--help` lists.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  plan: async () => (await import("./plan.ts")).registerPlan,
  bench: async () => (await import("./bench.ts")).registerBench,
  sim: async () => (await import("./sim.ts")).registerSim,
  aggregate: async () => (await import("./aggregate.ts")).registerAggregate,
  campaign: async () => (await import("./campaign.ts")).registerCampaign,
  run: async () => (await import("./run.ts")).registerRun,
  fit: async () => (await import("./fit.ts")).registerFit,
  "fit-steps": async () => (await import("./fit-steps.ts")).registerFitSteps,
  report: async () => (await import("./report.ts")).registerReport,
  load: async () => (await import("./load.ts")).registerLoad,
  capacity: async () => (await import("./capacity.ts")).registerCapacity,
  compare: async () => (await import("./compare.ts")).registerCompare,
  k8s: async () => (await import("./k8s.ts")).registerK8s,
  "k8s-collect": async () => (await import("./k8s.ts")).registerK8sCollect,
};

const wanted = process.argv[2];
const loaders =
  wanted !== undefined && Object.hasOwn(COMMANDS, wanted)
    ? [COMMANDS[wanted] as () => Promise<Register>]
    : Object.values(COMMANDS);
for (const register of await Promise.all(loaders.map((load) => load()))) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed its message (or help); usage errors are user errors.
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (isVscaleError(error)) {
    // One line, whatever the input held: its newlines are escaped with the rest.
    console.error(escapeControl(`vscale: ${error.format()}`).replaceAll("\n", "\\n"));
    process.exit(error.exitCode);
  }
  console.error(escapeControl(unexpectedErrorText(error)));
  process.exit(1);
}
