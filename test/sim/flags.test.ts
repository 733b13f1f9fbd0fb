/**
 * vLLM's serve flags as the pinned release parses them (vllm/engine/arg_utils.py,
 * vllm/utils/argparse_utils.py at v0.16.0): unknown flags are errors, -pp,
 * --kv-cache-dtype, hardware defaults for --max-num-seqs, human-readable ints,
 * chunked prefill on by default.
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../common/errors.ts";
import { parseReadableInt, parseServeArgs } from "../../sim/cli.ts";
import { resolveSimOptions } from "../../sim/options.ts";
import { startCli } from "../helpers/vscale-cli.ts";
import { MODEL, sim, stream } from "./helpers.ts";

describe("serve flags (vllm/engine/arg_utils.py at v0.16.0)", () => {
  it("an unknown flag (a typo) is an error, as argparse's unrecognized arguments", () => {
    expect(() => parseServeArgs([MODEL, "--tensor-paralel-size", "4"])).toThrow(
      /unrecognized arguments: --tensor-paralel-size 4/,
    );
    const { warnings, options } = parseServeArgs([
      MODEL,
      "--tensor-paralel-size",
      "4",
      "--sim-ignore-unknown-flags",
    ]);
    expect(warnings[0]).toContain("ignoring vLLM flag --tensor-paralel-size 4");
    expect(options).not.toHaveProperty("simIgnoreUnknownFlags");
    expect(options.tensorParallelSize).toBeUndefined();
  });

  it("accepts argparse's unique-prefix abbreviations and refuses ambiguous ones", () => {
    expect(parseServeArgs([MODEL, "--tensor-parallel", "2"]).options.tensorParallelSize).toBe(2);
    expect(() => parseServeArgs([MODEL, "--enable", "x"])).toThrow(/ambiguous option/);
  });

  it("vscale sim serve exits 2 on a typo before serving", async () => {
    const cli = startCli(["sim", "serve", MODEL, "--tensor-paralel-size", "4"]);
    const { code } = await cli.done;
    expect(code).toBe(2);
    expect(cli.stderr()).toContain("unrecognized arguments: --tensor-paralel-size 4");
    expect(cli.stdout()).not.toContain("serving");
  });

  it("human_readable_int: 32k, 32K, 25.6k; no decimals with binary suffixes; auto", () => {
    expect(["32k", "32K", "25.6k", "1M", "4096"].map(parseReadableInt)).toEqual([
      32_000, 32_768, 25_600, 1_048_576, 4096,
    ]);
    expect(parseReadableInt("1.5K")).toBeUndefined();
    expect(parseServeArgs([MODEL, "--max-model-len", "32k"]).options.maxModelLen).toBe(32_000);
    expect(
      parseServeArgs([MODEL, "--max-num-batched-tokens=16K"]).options.maxNumBatchedTokens,
    ).toBe(16_384);
    const auto = resolveSimOptions(parseServeArgs([MODEL, "--max-model-len", "auto"]).options);
    expect(auto.maxModelLenResolved).toBe(auto.profile.maxModelLen);
    expect(() => parseServeArgs([MODEL, "--max-model-len", "32x"])).toThrow(ConfigError);
  });

  it("--max-num-seqs and --max-num-batched-tokens default by hardware (get_batch_defaults)", () => {
    const h100 = resolveSimOptions({ model: MODEL });
    expect([h100.maxNumSeqs, h100.maxNumBatchedTokensResolved]).toEqual([1024, 8192]);
    const h200 = resolveSimOptions({ model: MODEL, simProfile: "llama-8b-h200" });
    expect(h200.maxNumSeqs).toBe(1024);
    // Without chunking a whole prompt must fit one step: max(max_model_len, default).
    const noChunk = resolveSimOptions({
      model: MODEL,
      enableChunkedPrefill: false,
      maxModelLen: 16384,
    });
    expect(noChunk.maxNumBatchedTokensResolved).toBe(16384);
    expect(resolveSimOptions({ model: MODEL, maxNumSeqs: 64 }).maxNumSeqs).toBe(64);
    // Chunked prefill is on by default, as V1 runs generate models.
    expect(h100.enableChunkedPrefill).toBe(true);
  });

  it("--kv-cache-dtype fp8 doubles the KV blocks; fp8_ds_mla is MLA-only", () => {
    const bf16 = resolveSimOptions({ model: MODEL }).numGpuBlocks;
    const fp8 = resolveSimOptions(parseServeArgs([MODEL, "--kv-cache-dtype", "fp8"]).options);
    expect(fp8.numGpuBlocks).toBeGreaterThanOrEqual(2 * bf16 - 1);
    expect(() => resolveSimOptions({ model: MODEL, kvCacheDtype: "fp8_ds_mla" })).toThrow(/MLA/);
    const bad = (() => {
      try {
        resolveSimOptions(parseServeArgs([MODEL, "--kv-cache-dtype", "fp4"]).options);
      } catch (error) {
        return error as ConfigError;
      }
    })();
    expect(bad?.format()).toMatch(/^--kv-cache-dtype: .*expected one of "auto"/);
  });

  it("-pp: GPUs = TP × PP; KV memory from TP × PP GPUs; PP lanes double throughput at the same ITL", async () => {
    const opts = resolveSimOptions(parseServeArgs([MODEL, "-tp", "2", "-pp", "2"]).options);
    expect(opts.gpusPerReplica).toBe(4);
    expect(opts.numGpuBlocks).toBe(
      resolveSimOptions({ model: MODEL, tensorParallelSize: 4 }).numGpuBlocks,
    );
    const body = { model: MODEL, prompt: "pipeline probe", max_tokens: 12, ignore_eos: true };
    const gaps = async (pp: number) => {
      const own = await sim({ pipelineParallelSize: pp, simTimeScale: 2, recordSteps: true });
      try {
        const runs = await Promise.all([0, 1].map(() => stream(own.url, "/v1/completions", body)));
        const steps = own.steps();
        return {
          lanes: new Set(steps.map((s) => s.lane)).size,
          stepMs: steps[1]?.scheduledMs,
          runs,
        };
      } finally {
        await own.close();
      }
    };
    const one = await gaps(1);
    const two = await gaps(2);
    // Two requests share one batch at PP 1, run in two lanes at PP 2.
    expect(one.lanes).toBe(1);
    expect(two.lanes).toBe(2);
    // Each PP lane's step is a whole pipeline pass plus the stage hand-off: ITL does not shrink.
    expect(two.stepMs as number).toBeGreaterThan((one.stepMs as number) * 0.95);
    for (const r of two.runs) expect(r.done).toBe(true);
  });
});
