/**
 * `vscale fit-steps`'s library on real files: the measured H200 grid
 * (../shared/fixtures/h200, copied to sim/profiles/), seed 000's step CSV and
 * profilemate's forward_pass_timing.csv fixtures, and a planted-truth file in
 * seed 000's format.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withEngine } from "../../analysis/aggregate/duck.ts";
import { fitStepFiles, readStepFile } from "../../analysis/steps/index.ts";
import { readStepProfile, type StepProfile } from "../../formats/step-profile.ts";
import { fittedExecuteMs, partMs } from "../../sim/engine/fitted-cost.ts";
import { PROFILES } from "../../sim/engine/profiles.ts";
import { Engine } from "../../sim/engine/scheduler.ts";
import { createRng } from "../../stats/rng.ts";

const at = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const GRID = at("../../sim/profiles/h200_step_time_grid.csv");
const SHIPPED = at("../../sim/profiles/llama-8b-h200.json");
const SHARED_GRID = at("../../../shared/fixtures/h200/step_time_grid.csv");
const PROFILES_DIR = at("../fixtures/aggregate/profiles/");
const SEED_CSV = `${PROFILES_DIR}execution_stats_100_2.0_0.0_meta-llama-Llama-3.1-8B_sharegpt.csv`;
const FORWARD_CSV = `${PROFILES_DIR}session_20250618_101500/forward_pass_timing.csv`;

interface GridRow {
  tp: number;
  phase: string;
  batch: number;
  tokens: number;
  context: number;
  ms: number;
}
const gridRows: GridRow[] = readFileSync(GRID, "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((line) => {
    const [tp, phase, batch, tokens, context, ms] = line.split(",");
    return {
      tp: Number(tp),
      phase: phase as string,
      batch: Number(batch),
      tokens: Number(tokens),
      context: Number(context),
      ms: Number(ms),
    };
  });

let grid: StepProfile;
beforeAll(async () => {
  grid = (await fitStepFiles([GRID], { baseProfile: "llama-8b-h200" })).profile;
});

describe("fit-steps on the H200 grid (real forward-pass times)", () => {
  it("reaches a held-out MAPE of at most 7% with little bias", () => {
    const held = grid.held_out;
    expect(held?.rows).toBe(56);
    expect(held?.mape_pct).toBeLessThanOrEqual(7);
    expect(Math.abs(held?.bias_pct ?? 99)).toBeLessThan(2);
  });

  it("fits physical terms: a launch floor per shard size and a compute part that shrinks with TP", () => {
    const floor = grid.execute.floor?.terms ?? [];
    expect(floor.filter((t) => t.name === "step").map((t) => t.tp)).toEqual([1, 2, 4, 8]);
    const compute = grid.execute.compute?.terms ?? [];
    const perGpu = compute.find((t) => t.name === "prefill_token_per_gpu");
    const serial = compute.find((t) => t.name === "prefill_token");
    // Both prefill terms are positive and known well (interval excludes 0).
    for (const term of [perGpu, serial]) expect(term?.ci95?.[0]).toBeGreaterThan(0);
    // Most prefill work is sharded: the per-GPU share dominates the unsharded part.
    expect(perGpu?.coef).toBeGreaterThan(2 * (serial?.coef ?? 0));
    for (const term of [...floor, ...compute]) {
      expect(term.ci95?.[0]).toBeLessThanOrEqual(term.coef);
      expect(term.ci95?.[1]).toBeGreaterThanOrEqual(term.coef);
    }
    expect(grid.source.layers).toBe(32);
  });

  it("the shipped profile equals a fresh fit of the shipped grid, itself a copy of ../shared", () => {
    expect(readStepProfile(SHIPPED)).toEqual(grid);
    if (existsSync(SHARED_GRID))
      expect(readFileSync(GRID, "utf8")).toBe(readFileSync(SHARED_GRID, "utf8"));
  });

  it("the engine on the shipped profile reproduces the grid's step times (virtual time)", () => {
    const profile = readStepProfile(SHIPPED);
    let ape = 0;
    for (const row of gridRows) {
      const engine = new Engine({
        maxNumSeqs: 1024,
        maxNumBatchedTokens: 1 << 20,
        enableChunkedPrefill: true,
        enablePrefixCaching: false,
        blockSize: 16,
        numGpuBlocks: 20_000,
        cost: {
          profile: PROFILES["llama-8b-h200"] as NonNullable<(typeof PROFILES)[string]>,
          tensorParallelSize: row.tp,
          serialFraction: 0,
          timeScale: 1,
          fitted: profile,
        },
      });
      for (let i = 0; i < row.batch; i++)
        engine.add({
          id: `r${i}`,
          // Distinct prompts of `context` tokens.
          promptTokenIds: Array.from({ length: row.context }, (_, k) => 300 + i * 7 + k),
          outputTokens: 4,
          finishReason: "length",
          arrivalMs: 0,
        });
      let plan = engine.schedule(0);
      if (row.phase === "decode" && plan) {
        engine.complete(plan, plan.cost.totalMs);
        plan = engine.schedule(plan.cost.totalMs);
      }
      expect(plan?.batch.prefillTokens).toBe(row.phase === "prefill" ? row.tokens : 0);
      expect(plan?.batch.decodeSeqs).toBe(row.phase === "decode" ? row.batch : 0);
      const perLayer = (plan?.cost.executeMs ?? 0) / 32;
      ape += Math.abs(perLayer - row.ms) / row.ms;
    }
    expect((ape / gridRows.length) * 100).toBeLessThanOrEqual(7);
  });
});

describe("fit-steps on seed 000 and profilemate files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vscale-steps-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads the fixtures' rows and reports each malformed one with file:line and field", async () => {
    const warnings: string[] = [];
    const { seed, forward } = await withEngine(async (engine) => ({
      seed: await readStepFile(engine, SEED_CSV, { tp: 1, layers: 32 }, (w) => warnings.push(w)),
      forward: await readStepFile(engine, FORWARD_CSV, { tp: 2, layers: 32 }, (w) =>
        warnings.push(w),
      ),
    }));
    expect(seed.format).toBe("seed000-steps");
    expect(seed.rows.map((r) => [r.line, r.x.prefillTokens, r.x.decodeSeqs, r.x.requests])).toEqual(
      [
        [2, 192, 0, 2],
        [3, 32, 2, 3],
        [4, 0, 0, 0],
      ],
    );
    expect(seed.rows[0]?.executeMs).toBeCloseTo(18, 9);
    expect(seed.rows[0]?.scheduleMs).toBeCloseTo(1, 9);
    expect(forward.format).toBe("profilemate-forward");
    expect(
      forward.rows.map((r) => [r.x.prefillTokens, r.x.decodeSeqs, r.x.tp, r.executeMs]),
    ).toEqual([
      [192, 0, 2, 35.5],
      [0, 2, 2, 8.25],
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(
        /execution_stats_.*\.csv:5: scheduler_time: expected seconds ≥ 0, got "oops"/,
      ),
      expect.stringMatching(/\.csv:6: num_scheduled_tokens: expected a dict/),
      expect.stringMatching(
        /forward_pass_timing\.csv:4: forward_time_ms: expected ms > 0, got "fast"/,
      ),
    ]);
  });

  it("recovers planted execute, schedule and update terms from a seed-000-format CSV", async () => {
    // Planted: execute = 4 ms + 0.05 ms/decode + 0.02 ms/prefill token; schedule and
    // update = 0.3 ms + 0.01 ms per request; 2% noise, as perf_counter deltas in seconds.
    const rng = createRng(11);
    const lines = ["scheduler_time,execute_time,update_time,num_scheduled_tokens,model,block_size"];
    for (let i = 0; i < 400; i++) {
      const entries: string[] = [];
      const decodes = rng.int(200);
      for (let d = 0; d < decodes; d++) entries.push(`'d-${i}-${d}': 1`);
      let prefill = 0;
      const prompts = rng.int(3);
      for (let p = 0; p < prompts; p++) {
        const n = 2 + rng.int(2000);
        prefill += n;
        entries.push(`'p-${i}-${p}': ${n}`);
      }
      const requests = entries.length;
      const noise = () => 1 + 0.02 * rng.normal();
      const execute = (4 + 0.05 * decodes + 0.02 * prefill) * noise();
      const phase = (0.3 + 0.01 * requests) * noise();
      lines.push(
        `${phase / 1000},${execute / 1000},${phase / 1000},"{${entries.join(", ")}}",meta-llama/Llama-3.1-8B,16`,
      );
    }
    const file = join(dir, "execution_stats_400_4.0_0.0_meta-llama-Llama-3.1-8B_sharegpt.csv");
    await writeFile(file, `${lines.join("\n")}\n`);
    const { profile, warnings } = await fitStepFiles([file]);
    expect(warnings).toEqual([expect.stringContaining("per-context-token term is left out")]);
    expect(profile.held_out?.mape_pct).toBeLessThan(3);
    const x = { prefillTokens: 1500, decodeSeqs: 100, contextTokens: 0, requests: 101, tp: 1 };
    expect(fittedExecuteMs(profile, x)).toBeCloseTo(4 + 5 + 30, -0.5);
    for (const part of [profile.schedule, profile.update]) {
      const step = part?.terms.find((t) => t.name === "step");
      const request = part?.terms.find((t) => t.name === "request");
      expect(step?.ci95?.[0]).toBeLessThan(0.3);
      expect(step?.ci95?.[1]).toBeGreaterThan(0.3);
      expect(request?.ci95?.[0]).toBeLessThan(0.01);
      expect(request?.ci95?.[1]).toBeGreaterThan(0.01);
      expect(partMs(part as NonNullable<typeof part>, x)).toBeCloseTo(0.3 + 1.01, 1);
    }
  });

  it("a file of no known shape is a DataError at line 1", async () => {
    const file = join(dir, "other.csv");
    await writeFile(file, "a,b\n1,2\n");
    await expect(fitStepFiles([file])).rejects.toThrow(/not a step-time file/);
  });
});
