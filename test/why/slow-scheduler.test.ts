/**
 * A planted scheduling bottleneck: the simulator's scheduler slowed by
 * `--sim-schedule-delay-ms` (modelled ms added to every step's schedule
 * phase), captured with load.profile, must be classed `scheduling` from the
 * step phases' schedule + update share.
 */
import { describe, expect, it } from "vitest";
import { THRESHOLDS } from "../../analysis/why/classify.ts";
import { expectPlantedClass, plantedCampaign, simServer } from "./planted-campaign.ts";

const MATRIX = `
campaign: slowsched
seed: 6
${simServer("--sim-time-scale", "0.1", "--sim-schedule-delay-ms", "3")}
load:
  engine: node
  mode: closed
  spawn_rate: 16
  warmup: 500ms
  duration: 2s
  workers: 1
  max_tokens: 8
  timeout: 10s
  profile: { at: 0s, for: 2s }
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
  users: [8]
`;

const campaign = plantedCampaign("slowsched", MATRIX, { analyze: false });

describe("slowed scheduler", () => {
  it("is classed scheduling from the step phases", async () => {
    expect(campaign.run.code).toBe(0);
    const [row] = Object.values(await campaign.summary());
    expectPlantedClass(row, "scheduling");
    const share = Number(
      /schedule_update_share=([0-9.]+)/.exec(String(row?.bottleneck_evidence))?.[1],
    );
    expect(share).toBeGreaterThanOrEqual(THRESHOLDS.scheduleShare);
  });
});
