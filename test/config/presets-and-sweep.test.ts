/**
 * Presets are real partial matrices: each, merged under a matrix of only
 * campaign, server and factors, plans (through the CLI, as a user runs it);
 * the user's keys win. A sweep expands to its steps; a sweep matrix that
 * also sets the rate is refused before anything starts.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckedPlan } from "../../cli/plan.ts";
import { ConfigError } from "../../common/errors.ts";
import { loadPlan } from "../../config/plan.ts";
import { mergeUnder, PRESET_NAMES, readPreset } from "../../config/presets.ts";
import { overSaturated, SweepSchema, sweepRate } from "../../config/sweep.ts";
import { runCli } from "../helpers/vscale-cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-presets-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const SERVER_ONLY = `campaign: first
server: {kind: sim, model: m, port: auto}
factors: {gpus: [1, 2]}
`;

describe("presets", () => {
  for (const name of PRESET_NAMES) {
    it(`${name}: a matrix of only the server section plans a sweep with SLOs`, async () => {
      const file = join(dir, `${name}.yaml`);
      await writeFile(file, SERVER_ONLY);
      const plan = await loadPlan(file, { preset: await readPreset(name) });
      expect(plan.matrix.slo).toBeDefined();
      const sweep = plan.matrix.load.sweep!;
      expect(plan.experiments).toHaveLength(2 * (sweep.rates + 2));
      expect(plan.experiments.map((e) => e.id)).toContain("g2-tp2-sw0-r1");
    });
  }

  it("the user's keys win; mappings merge key by key", async () => {
    const file = join(dir, "own.yaml");
    await writeFile(file, `${SERVER_ONLY}slo: {ttft_ms_p99: 123}\nload: {duration: 5s}\n`);
    const plan = await loadPlan(file, { preset: await readPreset("chat") });
    expect(plan.matrix.slo).toEqual({ ttft_ms_p99: 123 });
    expect(plan.matrix.load.duration).toBe(5_000);
    expect(plan.matrix.load.warmup).toBe(10_000); // from the preset
    expect(mergeUnder({ a: [1, 2], b: { c: 1 } }, { a: [3], b: { d: 2 } })).toEqual({
      a: [3],
      b: { c: 1, d: 2 },
    });
  });

  it("vscale plan --preset through the CLI; an unknown preset exits 2 with one line", async () => {
    const file = join(dir, "cli.yaml");
    await writeFile(file, SERVER_ONLY);
    const ok = await runCli(["plan", file, "--preset", "rag"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("g1-tp1-sw7-r1");
    const bad = await runCli(["plan", file, "--preset", "chatty"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'vscale: --preset: unknown preset "chatty" (one of chat, rag, summarize, prefill-heavy)',
    );
  });
});

describe("errors under a preset", () => {
  it("name what the preset put in the section the error points at", async () => {
    const file = join(dir, "closed-under-chat.yaml");
    await writeFile(file, `${SERVER_ONLY}load: { mode: closed, users: 4 }\n`);
    const error = await loadCheckedPlan(file, {}, "chat").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const line = (error as ConfigError).format();
    expect(line).toContain(`${file}:`);
    expect(line).toContain("load.mode");
    expect(line).toContain("--preset chat sets");
    expect(line).toContain("load.sweep");
    expect(line).not.toContain("\n");
  });
});

describe("sweep plans", () => {
  it("refuses a sweep that also sets the rate, naming file, line and field", async () => {
    const file = join(dir, "sweep-rate.yaml");
    await writeFile(
      file,
      `campaign: s\nserver: {kind: sim, model: m, port: auto}\nload:\n  mode: open\n  duration: 1s\n  sweep: {rates: 2}\nprompts: {p: {tokens: {dist: fixed, mean: 4}}}\nfactors:\n  rate: [1, 2]\n`,
    );
    const run = await runCli(["plan", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /sweep-rate\.yaml:9:\d+: factors\.rate: `rate` is chosen by the sweep/,
    );
  });

  it("rates run from the synchronous to the throughput rate; over-saturation needs both symptoms", () => {
    const sweep = SweepSchema.parse({ rates: 4 });
    expect([2, 3, 4, 5].map((s) => sweepRate(sweep, s, 2, 10))).toEqual([4, 6, 8, 10]);
    const at = (achievedRps: number, inFlightGrowthRps: number) =>
      overSaturated(sweep, { offeredRps: 10, achievedRps, inFlightGrowthRps });
    expect(at(9.5, 3)).toBeNull(); // keeping up
    expect(at(7, 0)).toBeNull(); // short, but nothing piles up
    expect(at(7, 3)).toMatch(/over-saturated at 10\.00 req\/s offered: 7\.00 req\/s achieved/);
  });
});

describe("weak scaling", () => {
  it("users: {per_gpu: 16} gives each experiment 16 × gpus users", async () => {
    const file = join(dir, "weak.yaml");
    await writeFile(
      file,
      `campaign: w\nserver: {kind: sim, model: m, port: auto}\nload:\n  users: {per_gpu: 16}\n  duration: 1s\nprompts: {p: {tokens: {dist: fixed, mean: 4}}}\nfactors:\n  gpus: [1, 2, 4]\n`,
    );
    const plan = await loadPlan(file);
    expect(plan.experiments.map((e) => [e.factors.gpus, e.load.users])).toEqual([
      [1, 16],
      [2, 32],
      [4, 64],
    ]);
  });
});
