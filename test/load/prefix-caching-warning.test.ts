import { afterEach, describe, expect, it } from "vitest";
import type { SimServer } from "../../sim/server.ts";
import { startCli } from "../helpers/vscale-cli.ts";
import { sim } from "../sim/helpers.ts";
import { tempDir } from "./helpers.ts";

// prefill-only resends its prompts: against a server caching prefixes its waves are cache hits.
let server: SimServer | null = null;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await server?.close();
  server = null;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function prefillOnly(enablePrefixCaching: boolean) {
  server = await sim({ enablePrefixCaching });
  const tmp = await tempDir();
  cleanups.push(tmp.cleanup);
  const out = `${tmp.dir}/requests.ndjson`;
  const args = ["load", "--url", server.url, "--scenario", "prefill-only", "--batch-size", "4"];
  args.push("--prompt-tokens", "64", "--duration", "300ms", "--warmup", "0s", "--out", out);
  return startCli(args).done;
}

describe("vscale load --scenario prefill-only and the target's prefix cache", () => {
  it.each([
    [true, true],
    [false, false],
  ])(
    "prefix caching %s → warned %s (from the target's vllm:cache_config_info)",
    async (on, warned) => {
      const run = await prefillOnly(on);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr.includes("the target has prefix caching on")).toBe(warned);
    },
  );
});
