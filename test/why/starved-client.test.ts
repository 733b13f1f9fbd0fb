/**
 * A planted client bottleneck, live: one load worker driving 1,000 closed-loop
 * streams against a simulator 100× faster than its modelled GPU. Every
 * step's tokens reach all streams at once, and one event loop cannot take
 * them in: on a 2-core machine its delay p99 was 88–292 ms over four runs
 * (the guard's limit is 10 ms). The guard must flag the run and the class
 * must be `client`, with the server-side class kept as a hint.
 */
import { describe, expect, it } from "vitest";
import { CLIENT_LIMITS } from "../../load/client-guard.ts";
import { plantedCampaign, simServer } from "./planted-campaign.ts";

const MATRIX = `
campaign: starved
seed: 8
${simServer("--sim-time-scale", "100")}
load:
  engine: node
  mode: closed
  spawn_rate: 100000
  warmup: 500ms
  duration: 1500ms
  workers: 1
  max_tokens: 4
  timeout: 20s
prompts:
  tiny: { tokens: { dist: fixed, mean: 8 }, count: 16 }
factors:
  gpus: [1]
  users: [1000]
`;

const campaign = plantedCampaign("starved", MATRIX, { analyze: false });

describe("a starved client (one worker, 1,000 streams, a fast simulator)", () => {
  it("is flagged client-limited and classed client", async () => {
    expect(campaign.run.code, campaign.run.stderr).toBe(0);
    const [row] = Object.values(await campaign.summary());
    expect(row?.client_workers).toBe(1n);
    expect(row?.client_limited).toBe(true);
    const over = [
      Number(row?.client_loop_lag_ms_p99) > CLIENT_LIMITS.loopLagMsP99,
      Number(row?.client_send_lag_ms_p99) > CLIENT_LIMITS.sendLagMsP99,
      Number(row?.client_cpu_pct) > CLIENT_LIMITS.cpuPct,
    ];
    expect(over).toContain(true);
    expect(row?.bottleneck).toBe("client");
    expect(String(row?.bottleneck_evidence)).toMatch(/^client_limited=true; server: \w+ \(/);
  });
});
