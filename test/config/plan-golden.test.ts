/**
 * `vscale plan` output, byte for byte, on the shipped matrices and two wide
 * fixtures: experiment ids, group ids, argv, env and estimates must not move
 * when the config code is reorganised (the goldens were written before the
 * split of config/expand.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatPlan, loadCheckedPlan } from "../../cli/plan.ts";
import { REPO, runCli } from "../helpers/vscale-cli.ts";

const GOLDEN = "test/fixtures/matrix/golden";
const MATRICES = [
  "config/experiment_matrix.yaml",
  "config/examples/vllm_tp_scaling.yaml",
  "config/examples/scenarios.yaml",
  `${GOLDEN}/wide.yaml`,
  `${GOLDEN}/open-loop.yaml`,
];
// The variables the matrices reference: plan checks they are set, never prints them.
const ENV = { ...process.env, HF_TOKEN: "hf-golden", VLLM_API_KEY: "k", GOLDEN_KEY: "k" };

function golden(matrix: string, ext: "json" | "txt"): string {
  const name =
    matrix
      .split("/")
      .pop()
      ?.replace(/\.yaml$/, "") ?? matrix;
  return readFileSync(join(REPO, GOLDEN, `${name}.plan.${ext}`), "utf8");
}

describe.concurrent("vscale plan is byte-identical to its goldens", () => {
  it.each(MATRICES)("%s --json", async (matrix) => {
    const run = await runCli(["plan", matrix, "--json"], ENV);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(golden(matrix, "json"));
  });

  it("config/experiment_matrix.yaml (text, real process)", async () => {
    const run = await runCli(["plan", MATRICES[0] as string], ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(golden(MATRICES[0] as string, "txt"));
  });

  it.each(MATRICES)("%s (text, formatPlan)", async (matrix) => {
    const plan = await loadCheckedPlan(join(REPO, matrix), ENV);
    // `vscale plan` prints the file as named on its command line, relative to the repository.
    const text = formatPlan({ ...plan, file: matrix });
    expect(`${text}\n`).toBe(golden(matrix, "txt"));
  });
});
