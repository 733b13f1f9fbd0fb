/**
 * `vscale compare` on inputs with nothing in common says so (exit 2), rather
 * than "no regressions", which reads as a pass. Raw folders as the runner
 * writes them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareResults } from "../../analysis/compare/compare.ts";
import { DataError } from "../../common/errors.ts";
import {
  syntheticInfo,
  syntheticRequest,
  T0_US,
  writeSyntheticExperiment,
} from "../aggregate/synthetic-campaign.ts";
import { runCli } from "../helpers/vscale-cli.ts";

let dir: string;

async function side(name: string, users: number): Promise<string> {
  const results = join(dir, name);
  const requests = Array.from({ length: 30 }, (_, i) =>
    syntheticRequest({
      request_id: `u0-${i}`,
      start_us: T0_US + i * 300_000,
      end_us: T0_US + i * 300_000 + 200_000,
    }),
  );
  await writeSyntheticExperiment(results, {
    info: syntheticInfo({ factors: { gpus: 1, tp: 1, dp: 1, users } }),
    requests,
  });
  return results;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-compare-inputs-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("compare with nothing in common", () => {
  it("is an error naming both sides, not 'no regressions'", async () => {
    const [a, b] = [await side("a", 4), await side("b", 8)];
    const error = await compareResults({
      a,
      b,
      threshold: 0.05,
      bootstrap: 200,
      seed: 1,
      warn: () => {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).format()).toMatch(
      /nothing to compare: no experiment of A has the factors of one of B \(A has e\.g\. .*users=4.*; B has e\.g\. .*users=8/,
    );
    const run = await runCli(["compare", a, b]);
    expect(run.code).toBe(2);
    expect(run.stdout).not.toContain("no regressions");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});
