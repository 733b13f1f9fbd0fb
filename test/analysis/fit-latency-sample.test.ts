/**
 * An experiment whose window saw no ok request through (every one that ended
 * in it was sent during warm-up) has throughput but no latency sample: it is
 * no fit point, and the fit says so. Raw files → `aggregate` → `computeFits`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { computeFits } from "../../analysis/fit/compute.ts";
import { readSummary } from "../../analysis/fit/summary.ts";
import {
  syntheticInfo,
  syntheticRequest,
  T0_US,
  writeSyntheticExperiment,
} from "../aggregate/synthetic-campaign.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-fit-latency-"));
  for (const gpus of [1, 2, 4, 8]) {
    const tokens = Math.round((1000 * gpus) / (1 + 0.08 * (gpus - 1)));
    // 8 GPUs: both requests were sent in warm-up and ended inside the window.
    const warmup = gpus === 8;
    const requests = [0, 1].map((i) =>
      syntheticRequest({
        experiment_id: `g${gpus}`,
        request_id: `r${i}`,
        start_us: warmup ? T0_US - 500_000 : T0_US + i * 1_000_000,
        end_us: T0_US + (i + 2) * 1_000_000,
        warmup,
        output_tokens: tokens,
      }),
    );
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({
        experimentId: `g${gpus}`,
        groupId: `g${gpus}`,
        factors: { gpus, tp: gpus, dp: 1, users: 4 },
      }),
      requests,
    });
  }
  await aggregate({ resultsDir: dir, log: () => undefined });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a point with no usable latency sample", () => {
  it("has throughput, e2e_ms_n 0, and is left out of the fit with a note", async () => {
    const summary = await readSummary(dir);
    const g8 = summary.rows.find((r) => r.experiment_id === "g8");
    expect(Number(g8?.e2e_ms_n)).toBe(0);
    expect(Number(g8?.output_tokens_per_s)).toBeGreaterThan(0);
    const fits = computeFits(summary, { bootstrap: 50 });
    const [group] = fits.groups;
    expect(group?.experiments).toEqual(["g1", "g2", "g4"]);
    expect(group?.notes).toContain(
      "left out 1 point(s) with no usable latency sample (no ok request sent in the window ended): g8",
    );
  });
});
