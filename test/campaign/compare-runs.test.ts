/**
 * `vscale compare` on real campaigns (the simulator over loopback, real
 * processes): two campaigns of one configuration (A1, A2: two matched sets
 * of 2 repeats each) are not a regression, in either direction; a campaign
 * on a simulated GPU at 0.7 of the speed (B) is, found from the runs. With one run a
 * side compare says it cannot separate a change from run-to-run noise and
 * calls nothing within the noise floor a regression, while a change far
 * beyond it still is one.
 */
import { cp, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOISE_FLOOR } from "../../analysis/compare/verdict.ts";
import { type CliRun, runCli, tempDir, writeMatrix } from "./helpers.ts";

const SET = `
    tokens: {dist: normal, mean: 16, std: 4, min: 4, max: 32}
    output_tokens: {dist: uniform, min: 4, max: 12}
    count: 256`;

// The bench's configuration (bench/compare.ts), where the floors were measured,
// with 3 s windows instead of 2: less sampling noise than the floors allow for,
// so an A/A false positive here is rarer than the bench's rate.
const matrix = (name: string, timeScale: number, sets: string[]) => `
campaign: ${name}
seed: 3
repeats: 2
server:
  kind: sim
  model: m
  port: auto
  health_timeout: 30s
  start_estimate: 1s
  args: [--sim-time-scale, "${timeScale}", --max-num-seqs, "64", --no-enable-prefix-caching]
load:
  engine: node
  mode: closed
  spawn_rate: 128
  warmup: 500ms
  duration: 3s
  workers: 1
  timeout: 10s
prompts:
${sets.map((s) => `  ${s}:${SET}`).join("\n")}
factors:
  gpus: [1]
  users: [64]
  prompt_set: [${sets.join(", ")}]
`;

let dir: Awaited<ReturnType<typeof tempDir>>;
const campaign = (name: string) => join(dir.path, "results", "raw", name);

beforeAll(async () => {
  dir = await tempDir("compare-runs");
  for (const [name, scale, sets] of [
    ["a1", 0.2, ["p1", "p2"]],
    ["a2", 0.2, ["p1", "p2"]],
    ["b", 0.14, ["p1"]],
  ] as const) {
    const file = await writeMatrix(dir.path, matrix(name, scale, [...sets]));
    const run = await runCli([
      "campaign",
      file,
      "--results",
      join(dir.path, "results"),
      "--no-analyze",
      "--quiet",
    ]);
    if (run.code !== 0) throw new Error(`campaign ${name}: ${run.stderr}`);
  }
}, 150_000);
afterAll(() => dir.remove());

const compare = (a: string, b: string) => runCli(["compare", a, b, "--bootstrap", "400"]);

/** A metric's console line in a set's block: its change and verdict. */
function line(run: CliRun, set: string, metric: string) {
  const block = run.stdout.split(/\n {2}(?=\S)/).find((b) => b.includes(`prompt_set=${set} `))!;
  const l = block.split("\n").find((x) => x.trim().startsWith(metric))!;
  return {
    text: l,
    // The first percentage is the change ("-" when the figure is null).
    change: Number(/([+-]\d+\.\d)%/.exec(l)?.[1]) / 100,
    regression: l.includes("REGRESSION"),
  };
}

describe("compare on repeated runs", () => {
  it("two campaigns of one configuration: no regression either way (2 runs a side, 2 sets)", async () => {
    for (const [a, b] of [
      ["a1", "a2"],
      ["a2", "a1"],
    ]) {
      const run = await compare(campaign(a!), campaign(b!));
      const called = run.stdout.split("\n").filter((l) => l.includes("REGRESSION"));
      expect(run.code, `${a} → ${b}: ${called.join(" | ")} ${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/no regressions/);
      expect(run.stdout).not.toMatch(/cannot separate/);
      // Every interval says how it was made and from how many runs and requests.
      expect(line(run, "p1", "output_tokens_per_s").text).toMatch(/from runs 2\/2, noise floor/);
      expect(line(run, "p2", "ttft_ms_p50").text).toMatch(/from runs 2\/2, then requests \d+\/\d+/);
    }
  });

  it("a simulated GPU at 0.7 of the speed is a regression, found from the runs", async () => {
    const run = await compare(campaign("a1"), campaign("b"));
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const tput = line(run, "p1", "output_tokens_per_s");
    expect(tput.regression, tput.text).toBe(true);
    expect(tput.text).toMatch(/from runs 2\/2/);
    expect(Math.abs(tput.change - -0.3), tput.text).toBeLessThan(0.12);
    const tpot = line(run, "p1", "tpot_ms_p50");
    expect(tpot.text).toMatch(/from runs 2\/2, then requests/);
    expect(tpot.regression, tpot.text).toBe(true);
    expect(run.stdout).toMatch(/only in A: .*prompt_set=p2/);
  });

  it("one run a side: says it cannot separate a change from noise; only a change beyond the floor is a regression", async () => {
    // One repeat of each side, as the campaign wrote it, in a campaign folder of its own.
    const single = async (from: string, to: string) => {
      const dest = join(dir.path, to, "raw", from);
      await mkdir(dest, { recursive: true });
      const id = (await readdir(campaign(from))).find(
        (d) => d.includes("p1") && d.endsWith("-r1"),
      )!;
      await cp(join(campaign(from), id), join(dest, id), { recursive: true });
      return dest;
    };
    const [a1, a2, b] = [
      await single("a1", "one-a1"),
      await single("a2", "one-a2"),
      await single("b", "one-b"),
    ];
    for (const [x, y] of [
      [a1, a2],
      [a2, a1],
    ]) {
      const run = await compare(x!, y!);
      expect(run.stdout).toMatch(
        /A: 1 run, B: 1 run; one run on a side cannot separate a change from run-to-run noise/,
      );
      const tput = line(run, "p1", "output_tokens_per_s");
      expect(tput.text).toMatch(/from time bins \d+\/\d+ within runs, noise floor/);
      // Nothing within the floor is called, whatever the within-run interval says.
      for (const metric of ["output_tokens_per_s", "tpot_ms_p50", "ttft_ms_p50", "e2e_ms_p50"]) {
        const l = line(run, "p1", metric);
        const worse = metric === "output_tokens_per_s" ? -l.change : l.change;
        if (worse <= NOISE_FLOOR[metric as keyof typeof NOISE_FLOOR])
          expect(l.regression).toBe(false);
      }
      expect(run.code, run.stdout).toBe(0);
    }
    const slow = await compare(a1, b);
    expect(slow.code, slow.stdout).toBe(1);
    // TPOT (+43% planted) is well beyond its floor, with a tight within-run interval.
    const tpot = line(slow, "p1", "tpot_ms_p50");
    expect(tpot.text).toMatch(/from requests \d+\/\d+ within runs, noise floor 17\.0%/);
    expect(tpot.regression, tpot.text).toBe(true);
  });
});
