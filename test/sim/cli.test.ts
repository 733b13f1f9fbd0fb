import { describe, expect, it } from "vitest";
import { ConfigError } from "../../common/errors.ts";
import { parseServeArgs } from "../../sim/cli.ts";
import { resolveSimOptions } from "../../sim/options.ts";
import { startCli, until } from "../helpers/vscale-cli.ts";
import { freePort, MODEL } from "./helpers.ts";

/** The real CLI as a process; `ready()` waits until stdout shows `untilOutput`. */
function run(args: string[], untilOutput?: string) {
  const cli = startCli(args);
  const exit = cli.done.then((r) => r.code);
  const ready = () => until(() => !untilOutput || cli.stdout().includes(untilOutput));
  return { child: cli.child, exit, ready, out: cli.stdout, err: cli.stderr };
}

describe("parseServeArgs (vLLM argv conventions)", () => {
  it("reads -tp/-dp, --flag=value, --flag value, booleans and names", () => {
    const { options, warnings } = parseServeArgs([
      MODEL,
      "-tp",
      "4",
      "-dp=2",
      "--max_num_seqs",
      "64",
      "--no-enable-chunked-prefill",
      "--enable-prefix-caching",
      "--served-model-name",
      "a",
      "b",
      "--sim-startup-delay",
      "2s",
      "--sim-serial-fraction=0.1",
    ]);
    expect(options).toMatchObject({
      model: MODEL,
      tensorParallelSize: 4,
      dataParallelSize: 2,
      maxNumSeqs: 64,
      enableChunkedPrefill: false,
      enablePrefixCaching: true,
      servedModelName: ["a", "b"],
      simStartupDelayMs: 2000,
      simSerialFraction: 0.1,
    });
    // Only vLLM's own warning about disabling chunked prefill (vllm/engine/arg_utils.py).
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("disabling chunked prefill");
  });

  it("prefix caching: on by default as in vLLM V1, off with --no-enable-prefix-caching, the last flag wins", () => {
    const caching = (...flags: string[]) =>
      resolveSimOptions(parseServeArgs([MODEL, ...flags]).options).enablePrefixCaching;
    expect(caching()).toBe(true);
    expect(caching("--no-enable-prefix-caching")).toBe(false);
    expect(caching("--no-enable-prefix-caching", "--enable-prefix-caching")).toBe(true);
    expect(caching("--enable-prefix-caching", "--no-enable-prefix-caching")).toBe(false);
  });

  it("with --sim-ignore-unknown-flags, warns once per unknown vLLM flag and keeps its value out of the way", () => {
    const { options, warnings } = parseServeArgs([
      MODEL,
      "--sim-ignore-unknown-flags",
      "--swap-space",
      "4",
      "--disable-log-requests",
      "--trust-remote-code",
      "--port",
      "9000",
    ]);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain("--swap-space");
    expect(options.port).toBe(9000);
  });

  it("bad values are ConfigErrors naming the flag", () => {
    expect(() => parseServeArgs([MODEL, "--tensor-parallel-size", "abc"])).toThrow(ConfigError);
    expect(() => parseServeArgs([MODEL, "--sim-startup-delay", "5"])).toThrow(/duration/);
    expect(() => parseServeArgs([])).toThrow(/missing MODEL/);
    expect(() => resolveSimOptions(parseServeArgs([MODEL, "-tp", "0"]).options)).toThrow(
      ConfigError,
    );
    expect(() => resolveSimOptions({ model: MODEL, simProfile: "nope" })).toThrow(
      /unknown profile/,
    );
    expect(() => resolveSimOptions({ model: MODEL, simProfile: "llama-70b-h100" })).toThrow(
      /does not fit/,
    );
    expect(() =>
      resolveSimOptions({ model: MODEL, enableChunkedPrefill: false, maxNumBatchedTokens: 4096 }),
    ).toThrow(ConfigError);
  });

  it("reads the API key from VLLM_API_KEY like vLLM", () => {
    expect(parseServeArgs([MODEL], { VLLM_API_KEY: "k" }).options.apiKey).toBe("k");
  });

  it("KV capacity grows with TP", () => {
    const blocks = [1, 2, 4].map(
      (tp) => resolveSimOptions({ model: MODEL, tensorParallelSize: tp }).numGpuBlocks,
    );
    expect(blocks[1]).toBeGreaterThan(2 * (blocks[0] as number));
    expect(blocks[2]).toBeGreaterThan(2 * (blocks[1] as number));
  });
});

describe("vscale sim serve (spawned)", () => {
  it("exits 2 with a clear message on a bad flag value", async () => {
    const p = run(["sim", "serve", MODEL, "--tensor-parallel-size", "abc"]);
    expect(await p.exit).toBe(2);
    expect(p.err()).toContain("--tensor-parallel-size");
    expect(p.err()).toContain("integer");
  });

  it("logs a startup line, serves, hides the API key and stops on SIGTERM with code 0", async () => {
    const port = await freePort();
    const p = run(
      [
        "sim",
        "serve",
        MODEL,
        "--port",
        String(port),
        "--api-key",
        "sk-hidden",
        "--swap-space",
        "4",
        "--sim-ignore-unknown-flags",
        "--sim-stats-interval",
        "200ms",
      ],
      "serving",
    );
    try {
      await p.ready();
      expect(p.out()).toContain(`http://127.0.0.1:${port}`);
      expect(p.out()).toContain("ignoring vLLM flag --swap-space");
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(p.out()).toMatch(/Engine 000: Avg prompt throughput/);
      p.child.kill("SIGTERM");
      expect(await p.exit).toBe(0);
      expect(p.out() + p.err()).not.toContain("sk-hidden");
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  it("--sim-startup-delay on a fixed port: nothing listens until then", async () => {
    const port = await freePort();
    const p = run(
      ["sim", "serve", MODEL, "--port", String(port), "--sim-startup-delay", "600ms"],
      "serving",
    );
    try {
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
      await p.ready();
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      p.child.kill("SIGTERM");
      await p.exit;
    }
  });
});
