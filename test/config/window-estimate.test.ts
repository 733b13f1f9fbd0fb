import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatPlan, loadCheckedPlan } from "../../cli/plan.ts";
import { expectedWindowRequests, shortWindowNote } from "../../config/window-estimate.ts";

describe("a window too short for its latency statistics, found at plan time", () => {
  it("expects rate × duration requests in an open loop; a closed loop's count is the run's", () => {
    expect(expectedWindowRequests({ mode: "open", rate: 3, duration: 5_000 })).toBe(15);
    expect(expectedWindowRequests({ mode: "closed", rate: undefined, duration: 5_000 })).toBeNull();
    expect(shortWindowNote({ mode: "open", rate: 3, duration: 5_000 })).toMatch(
      /about 15 requests .* < 20: no latency statistic will be printed/,
    );
    expect(shortWindowNote({ mode: "open", rate: 19.99, duration: 5_000 })).toMatch(
      /< 100: no p99 will be printed/,
    );
    expect(shortWindowNote({ mode: "open", rate: 20, duration: 5_000 })).toBeNull();
  });

  it("vscale plan lists the experiments whose windows are too short", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vscale-window-plan-"));
    try {
      const file = join(dir, "m.yaml");
      await writeFile(
        file,
        [
          "campaign: short",
          "server: { kind: sim, model: m }",
          "load: { mode: open, duration: 5s }",
          "prompts: { short: { tokens: { dist: fixed, mean: 16 } } }",
          "factors: { gpus: [1], rate: [3, 40] }",
        ].join("\n"),
      );
      const text = formatPlan(await loadCheckedPlan(file, {}));
      expect(text).toContain(
        "g1-tp1-rate3-r1: about 15 requests in its window (rate 3/s × 5 s) < 20: no latency statistic will be printed; lengthen load.duration",
      );
      expect(text).not.toContain("g1-tp1-rate40-r1:");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
