/**
 * A server's `usage` is checked against what was asked and seen: a claim
 * above `max_tokens`, below the chunks with text that arrived, or not a whole
 * number fails the record as `bad_payload` (usage-check.ts) instead of being
 * summed into throughput. Real requests to a planted server that lies.
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runNodeLoad } from "../../load/node/run.ts";
import { usageProblem } from "../../load/workload/usage-check.ts";
import { windowFigures } from "../../stats/request-window.ts";
import { readRecords, runOptions, tempDir } from "./helpers.ts";
import { type PlantedServer, startPlantedServer } from "./planted-server.ts";

let dir: string;
let cleanup: () => Promise<void>;
let server: PlantedServer | null = null;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());
afterEach(async () => {
  await server?.close();
  server = null;
});

const TOKENS = 8;

async function recordsWithClaim(claimedTokens: number, stream = true) {
  server = await startPlantedServer({
    plan: () => ({ ttftMs: 2, itlMs: 1, tokens: TOKENS, claimedTokens }),
  });
  const file = join(dir, `claim-${claimedTokens}-${stream}.ndjson`);
  await runNodeLoad(
    runOptions(server.url, file, { maxTokens: TOKENS, durationMs: 300, stream, timeoutMs: 2_000 }),
  );
  // Only answered requests say anything of a usage claim: those cut by the engine (cancelled)
  // or never answered in time (timeout) carry no claim at all.
  return (await readRecords(file)).filter(
    (r) => r.error_kind !== "cancelled" && r.error_kind !== "timeout",
  );
}

describe("a server's usage claim", () => {
  it.each([
    [10_000, "exceeds the request's max_tokens 8"],
    [0, "fewer than the 8 chunks with text"],
    [2.5, "is not a whole number"],
  ])("of %s tokens after 8 chunks fails the record, never summed", async (claim, why) => {
    const records = await recordsWithClaim(claim);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r).toMatchObject({ ok: false, error_kind: "bad_payload", tokens_from_usage: false });
      expect(r.error_message).toContain(why);
    }
    const figures = windowFigures(records, null);
    expect(figures.requestsOk).toBe(0);
    expect(figures.outputTokPerS ?? 0).toBe(0);
  });

  it("is believed when it can be true, streamed or buffered", async () => {
    for (const stream of [true, false]) {
      const records = await recordsWithClaim(TOKENS, stream);
      expect(records.length).toBeGreaterThan(0);
      for (const r of records)
        expect(r).toMatchObject({ ok: true, output_tokens: TOKENS, tokens_from_usage: true });
      await server?.close();
      server = null;
    }
  });

  it("a buffered answer above max_tokens is refused too (no chunks to count)", () => {
    const usage = { promptTokens: 7, completionTokens: 9 };
    expect(usageProblem({ usage, textChunks: null, maxTokens: 8 })).toContain("max_tokens 8");
    expect(usageProblem({ usage, textChunks: null, maxTokens: null })).toBeNull();
    expect(usageProblem({ usage: null, textChunks: 3, maxTokens: 8 })).toBeNull();
    // Without usage the chunks are the count: more than max_tokens cannot be.
    expect(usageProblem({ usage: null, textChunks: 9, maxTokens: 8 })).toContain(
      "9 chunks with text arrived for max_tokens 8",
    );
    expect(
      usageProblem({
        usage: { promptTokens: 1.5, completionTokens: 2 },
        textChunks: 2,
        maxTokens: 8,
      }),
    ).toContain("usage.prompt_tokens 1.5");
  });
});
