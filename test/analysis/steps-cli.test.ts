/**
 * `vscale fit-steps FILE --out profile.json` as a process, and the simulator
 * running on the profile it wrote (`--sim-profile FILE`).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fitStepFiles } from "../../analysis/steps/index.ts";
import { DataError } from "../../common/errors.ts";
import { StepProfileSchema } from "../../formats/step-profile.ts";
import { stepCost } from "../../sim/engine/cost-model.ts";
import { resolveSimOptions } from "../../sim/options.ts";
import { startSimServer } from "../../sim/server.ts";
import { runCli } from "../helpers/vscale-cli.ts";

const GRID = fileURLToPath(new URL("../../sim/profiles/h200_step_time_grid.csv", import.meta.url));
const MODEL = "meta-llama/Llama-3.1-8B-Instruct";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-fit-steps-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("vscale fit-steps → vscale sim serve --sim-profile", () => {
  it("prints coefficients with intervals and the held-out error, writes a profile the sim runs on", async () => {
    const out = join(dir, "profile.json");
    const run = await runCli(["fit-steps", GRID, "--out", out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/prefill_token_per_gpu +[\d.]+ ms {2}95% CI \[/);
    expect(run.stdout).toMatch(/held-out execute error \(5-fold, 56 rows\): MAPE \d\.\d\d%/);
    const profile = StepProfileSchema.parse(JSON.parse(await readFile(out, "utf8")));
    expect(profile.held_out?.mape_pct).toBeLessThanOrEqual(7);

    const server = await startSimServer({
      model: MODEL,
      simProfile: out,
      tensorParallelSize: 2,
      simTimeScale: 20,
      recordSteps: true,
    });
    try {
      const response = await fetch(`${server.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: MODEL,
          prompt: "fitted steps",
          max_tokens: 3,
          ignore_eos: true,
        }),
      });
      expect(response.status).toBe(200);
      const steps = server.steps();
      expect(steps.length).toBe(3);
      const cost = {
        profile: server.options.profile,
        tensorParallelSize: 2,
        serialFraction: 0,
        timeScale: 20,
        fitted: profile,
      };
      // The decode steps cost what the fitted profile says (one sequence, its context).
      const last = steps.at(-1) as { scheduledMs: number };
      const expected = stepCost(cost, {
        prefillTokens: 0,
        decodeSeqs: 1,
        contextTokens: 0,
        requests: 1,
      });
      expect(last.scheduledMs).toBeGreaterThanOrEqual(expected.totalMs);
      expect(last.scheduledMs).toBeLessThan(expected.totalMs * 1.01);
    } finally {
      await server.close();
    }
  });

  it("refuses a planted s beside a fitted profile, and a TP it has no measurement for", () => {
    expect(() =>
      resolveSimOptions({ model: MODEL, simProfile: "llama-8b-h200", simSerialFraction: 0.1 }),
    ).toThrow(/takes no planted s/);
    expect(() =>
      resolveSimOptions({ model: MODEL, simProfile: "llama-8b-h200", tensorParallelSize: 3 }),
    ).toThrow(/no measurement at tensor-parallel size 3/);
  });

  it("a file with no usable row says why each row was skipped, in one line (exit 2)", async () => {
    const grid = join(dir, "unusable.csv");
    await writeFile(
      grid,
      "tp,phase,batch,tokens,context,ms\n1,prefill,x,1,1,2\n1,decode,1,1,1,-3\n",
    );
    const run = await fitStepFiles([grid]).catch((e: unknown) => e);
    expect(run).toBeInstanceOf(DataError);
    const line = (run as DataError).format();
    expect(line).toContain("0 usable step rows");
    expect(line).toContain(`${grid}:2: batch: expected a count > 0, got "x"`);
    expect(line).toContain(`${grid}:3: ms: expected ms > 0, got "-3"`);
    expect(line).not.toContain("\n");
  });

  it("a broken profile file stops `sim serve` with exit 2 naming the file and field", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ schema_version: 1, kind: "vscale-step-profile" }));
    const run = await runCli(["sim", "serve", MODEL, "--sim-profile", bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}: base_profile:`);
  });
});
