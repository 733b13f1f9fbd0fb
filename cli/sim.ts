/**
 * `vscale sim serve MODEL [flags]`: the simulated vLLM server. Flags are
 * parsed by sim/cli.ts (vLLM's argv conventions, which commander cannot
 * express), so commander passes everything after `serve` through untouched.
 */
import type { Command } from "commander";
import { parseServeArgs, serveHelp } from "../sim/cli.ts";
import { startSimServer } from "../sim/server.ts";

export function registerSim(program: Command): void {
  const sim = program.command("sim").description("the vLLM-compatible simulator");
  sim
    .command("serve")
    .description("serve MODEL like `vllm serve`, with a planted scaling law")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]", "MODEL and vLLM / --sim-* flags")
    .action(async (_args: string[], _opts: unknown, command: Command) => {
      const { options, warnings, help } = parseServeArgs(command.args, process.env);
      if (help) {
        console.log(serveHelp());
        return;
      }
      for (const warning of warnings) console.log(warning);
      const server = await startSimServer(options, {
        log: (line) => console.log(line),
        // The crash fault: die like a segfaulting engine, mid-stream, no cleanup.
        onCrash: () => process.exit(1),
      });
      await new Promise<void>((resolveStop) => {
        const stop = (signal: string) => {
          console.log(`INFO vscale sim: ${signal}, shutting down`);
          server.close().then(() => resolveStop());
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
      process.exit(0);
    });
}
