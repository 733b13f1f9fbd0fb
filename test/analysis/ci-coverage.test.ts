/**
 * The CI on s, planted: the shipped main job's design run on the simulator's
 * engine in virtual time (planted s = 0.08, runs with their own prompt
 * samples and a 3% speed jitter), fitted by fitPoints as `vscale fit` does.
 * Runs resampled within each N cover the planted s in at least 90% of 40
 * seeded campaigns; one N biased 5% low makes coverage drop (an honest
 * interval does not cover by width); without repeats there is no interval
 * unless residuals are asked for. bench/fit-coverage.ts measures the same
 * over 100 seeds with B = 1000.
 */
import { describe, expect, it } from "vitest";
import { fitPoints } from "../../analysis/fit/fit-group.ts";
import {
  MAIN_JOB_DESIGN,
  runVirtualCampaign,
  type VirtualPoint,
} from "../../sim/engine/virtual-campaign.ts";

const SEEDS = 40;
const B = 200;
const PLANTED = MAIN_JOB_DESIGN.serialFraction;

function coverage(
  campaigns: readonly VirtualPoint[][],
  bias: number,
): { covered: number; widths: number[] } {
  let covered = 0;
  const widths: number[] = [];
  for (const [i, runs] of campaigns.entries()) {
    const seed = i + 1;
    const points = runs.map((p) => ({
      n: p.n,
      x: p.n === 8 ? p.x * (1 - bias) : p.x,
    }));
    const fit = fitPoints(points, { bootstrap: B, seed });
    if (!fit.ok) throw new Error(fit.reason);
    const ci = fit.fit.amdahl.ci;
    if (ci === null) throw new Error(`no CI: ${fit.fit.amdahl.ciNote}`);
    expect(ci.method).toBe("within-n");
    widths.push(ci.high - ci.low);
    if (ci.low <= PLANTED && PLANTED <= ci.high) covered++;
  }
  return { covered, widths: widths.sort((a, b) => a - b) };
}

describe("the CI on s on the main job's design (virtual time, planted s = 0.08)", () => {
  it("covers the planted s in ≥ 90% of 40 seeds, with an interval narrower than 0.1; a 5% bias at one N makes coverage drop", () => {
    const campaigns = Array.from({ length: SEEDS }, (_, i) =>
      runVirtualCampaign(MAIN_JOB_DESIGN, i + 1),
    );
    const honest = coverage(campaigns, 0);
    expect(honest.covered / SEEDS).toBeGreaterThanOrEqual(0.9);
    // Not vacuous: the median interval is a fraction of [0, 1].
    expect(honest.widths[SEEDS / 2]).toBeLessThan(0.1);
    const biased = coverage(campaigns, 0.05);
    expect(biased.covered / SEEDS).toBeLessThan(0.85);
    expect(biased.covered).toBeLessThan(honest.covered);
  });

  it("gives no interval by default when the runs have no repeats, a labelled residual one when asked", () => {
    const points = runVirtualCampaign({ ...MAIN_JOB_DESIGN, repeats: 1 }, 7);
    const byDefault = fitPoints(points, { bootstrap: B, seed: 7 });
    if (!byDefault.ok) throw new Error(byDefault.reason);
    expect(byDefault.fit.amdahl.ci).toBeNull();
    expect(byDefault.fit.amdahl.ciNote).toMatch(/^no repeats: run repeats ≥ 2/);
    const asked = fitPoints(points, { bootstrap: B, seed: 7, ci: "residual" });
    if (!asked.ok) throw new Error(asked.reason);
    expect(asked.fit.amdahl.ci?.method).toBe("residual");
  });
});
