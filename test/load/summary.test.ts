import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError } from "../../common/errors.ts";
import { formatSummary, summarizeRequestsFile } from "../../load/summary.ts";
import { syntheticRequest } from "../aggregate/synthetic-campaign.ts";
import { tempDir } from "./helpers.ts";

// Window [1 s, 3 s) after T0; the rule itself is tested in test/stats/request-window.test.ts.
const T0 = syntheticRequest().start_us;
const W0 = T0 + 1_000_000;
const W1 = T0 + 3_000_000;

describe("summary", () => {
  it("reads a records file line by line and names a bad line", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const good = join(dir, "ok.ndjson");
      await writeFile(good, `${JSON.stringify(syntheticRequest({ end_us: T0 + 2_000_000 }))}\n\n`);
      const s = await summarizeRequestsFile(good, W0, W1);
      expect(s.reqPerS).toBe(0.5);
      expect(formatSummary(s)).toContain("1 ok, 0 failed");
      const bad = join(dir, "bad.ndjson");
      await writeFile(
        bad,
        `${JSON.stringify(syntheticRequest())}\n${JSON.stringify({ ...syntheticRequest(), ok: "yes" })}\n`,
      );
      const error = await summarizeRequestsFile(bad, W0, W1).catch((e) => e);
      expect(error).toBeInstanceOf(DataError);
      expect(error.location).toMatchObject({ file: bad, line: 2, field: "ok" });
    } finally {
      await cleanup();
    }
  });
});
