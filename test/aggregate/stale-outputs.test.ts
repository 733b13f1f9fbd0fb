/**
 * Profile tables exist only when profiles were found. A later aggregation
 * without them must not leave the earlier run's tables behind in agg/: the
 * report would draw step phases and kernels of data that is no longer there.
 */
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { AGG_FIXTURES } from "./fixtures.ts";
import { syntheticInfo, writeSyntheticExperiment } from "./synthetic-campaign.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-stale-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("aggregate: outputs of an earlier run", () => {
  it("removes profile tables this run did not produce, and keeps the ones it did", async () => {
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({ experimentId: "e1" }),
      requests: [],
    });
    const profiles = join(dir, "profiles");
    await cp(join(AGG_FIXTURES, "profiles"), profiles, { recursive: true });
    const first = await aggregate({ resultsDir: dir, profiles: [profiles] });
    const agg = join(dir, "agg");
    const profileTables = (await readdir(agg)).filter((f) =>
      /^(step_phases|kernels|ops|profilemate_.+)\.parquet$/.test(f),
    );
    expect(profileTables).toEqual(
      expect.arrayContaining(["step_phases.parquet", "kernels.parquet", "ops.parquet"]),
    );
    expect(profileTables.some((f) => f.startsWith("profilemate_"))).toBe(true);
    expect(first.files.map((f) => f.split("/").pop())).toEqual(
      expect.arrayContaining(profileTables),
    );

    // The same results without the profiles: only the core tables remain.
    const second = await aggregate({ resultsDir: dir });
    const left = (await readdir(agg)).sort();
    expect(left).toEqual(
      [
        "gpu.parquet",
        "requests.parquet",
        "server_metrics.parquet",
        "summary.csv",
        "summary.parquet",
      ].sort(),
    );
    expect(second.files.every((f) => existsSync(f))).toBe(true);
  });
});
