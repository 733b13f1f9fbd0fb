import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileAtomic, writeJsonAtomic } from "../../common/atomic-write.ts";
import { experimentDir, RAW_FILES } from "../../common/raw-layout.ts";
import type { Experiment } from "../../config/expand.ts";
import { decide, globToRegExp, matchesAny, readStatus } from "../../scripts/campaign/resume.ts";
import { tempDir } from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("resume");
});
afterEach(async () => {
  await dir.remove();
});

const exp = (id: string) => ({ id }) as Experiment;

async function writeStatus(id: string, status: "ok" | "failed" | "interrupted") {
  await writeJsonAtomic(join(experimentDir(dir.path, "c", id), RAW_FILES.status), {
    status,
    reason: status === "ok" ? null : "because",
    finished_at: new Date().toISOString(),
    requests: 3,
  });
}

describe("resume decisions", () => {
  it("skips ok, keeps failed, re-runs interrupted and missing", async () => {
    await writeStatus("a", "ok");
    await writeStatus("b", "failed");
    await writeStatus("c", "interrupted");
    const opts = { resultsDir: dir.path, campaign: "c" };
    expect(await decide(exp("a"), opts)).toMatchObject({ action: "skip", why: "ok" });
    expect(await decide(exp("b"), opts)).toMatchObject({ action: "skip", why: "failed" });
    expect(await decide(exp("c"), opts)).toEqual({ action: "run", why: "interrupted" });
    expect(await decide(exp("d"), opts)).toEqual({ action: "run", why: "new" });
    expect(await decide(exp("b"), { ...opts, retryFailed: true })).toEqual({
      action: "run",
      why: "retry",
    });
    expect(await decide(exp("a"), { ...opts, force: true })).toEqual({
      action: "run",
      why: "forced",
    });
    expect(await decide(exp("d"), { ...opts, only: ["a*"] })).toEqual({
      action: "skip",
      why: "filtered",
    });
  });

  it("treats a corrupt status.json as not finished", async () => {
    await writeFileAtomic(join(experimentDir(dir.path, "c", "x"), RAW_FILES.status), "{oops");
    expect(await readStatus(experimentDir(dir.path, "c", "x"))).toBe("unreadable");
    expect(await decide(exp("x"), { resultsDir: dir.path, campaign: "c" })).toEqual({
      action: "run",
      why: "unreadable",
    });
  });

  it("matches --only globs over the whole id", () => {
    expect(globToRegExp("g1-*").test("g1-tp1-short-r1")).toBe(true);
    expect(globToRegExp("g1-*").test("g11-tp1")).toBe(false);
    expect(globToRegExp("g?-tp?-u8.x").test("g2-tp2-u8.x")).toBe(true);
    expect(globToRegExp("g?-tp?-u8.x").test("g2-tp2-u8-x")).toBe(false);
    expect(matchesAny("g4-tp4-long-r1", ["g1-*,g4-*"])).toBe(true);
    expect(matchesAny("g2-tp2-long-r1", ["g1-*", "g4-*"])).toBe(false);
    expect(matchesAny("anything", undefined)).toBe(true);
  });
});
