/**
 * `vscale sim serve MODEL [flags]`: the simulated vLLM server. Flags are
 * parsed by sim/cli.ts (vLLM's argv conventions, which commander cannot
 * express), so commander passes everything after `serve` through untouched.
 */
import type { Command } from "commander";
import { parseServeArgs, serveHelp } from "../sim/cli.ts";
import { watchParent } from "../sim/parent-watch.ts";
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
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          console.log(`INFO vscale sim: ${signal}, shutting down`);
          server.close().then(() => resolveStop());
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
        watchParent(process.env, () => stop("parent process gone"));
      });
      process.exit(0);
    });
}
