import { describe, expect, it } from "vitest";
import type { SimStatsBody } from "../../sim/http/debug-stats.ts";
import { MODEL, pieces, sim, stream } from "./helpers.ts";

const getStats = async (url: string) =>
  (await (await fetch(`${url}/sim/stats`)).json()) as SimStatsBody;

describe("GET /sim/stats", () => {
  it("counts steps, tokens and step lateness since the last reset", async () => {
    const server = await sim({ recordSteps: true, apiKey: "secret-key" });
    try {
      const empty = await getStats(server.url);
      expect(empty).toMatchObject({ steps: 0, generationTokens: 0, activeRequests: 0 });
      expect(empty.jitterMs).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null });

      const result = await stream(
        server.url,
        "/v1/completions",
        { model: MODEL, prompt: "stats probe", max_tokens: 9, ignore_eos: true },
        { authorization: "Bearer secret-key" },
      );
      expect(pieces(result.chunks)).toHaveLength(9);
      // Open like /metrics: no key needed.
      const stats = await getStats(server.url);
      expect(stats.generationTokens).toBe(9);
      expect(stats.steps).toBe(server.steps().length);
      expect(stats.jitterMs.count).toBe(stats.steps);
      const lateness = server.jitterMs().sort((a, b) => a - b);
      expect(stats.jitterMs.max).toBe(lateness.at(-1));
      expect(stats.jitterMs.p50 as number).toBeLessThanOrEqual(stats.jitterMs.p99 as number);
      expect(stats.seconds).toBeGreaterThan(0);

      const reset = await fetch(`${server.url}/sim/stats/reset`, { method: "POST" });
      expect(reset.status).toBe(204);
      const after = await getStats(server.url);
      expect(after).toMatchObject({ steps: 0, generationTokens: 0 });
      expect(after.jitterMs.count).toBe(0);
      expect((await fetch(`${server.url}/sim/stats/reset`)).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});
