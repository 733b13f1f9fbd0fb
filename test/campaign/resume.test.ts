import { existsSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fingerprintChanges, fingerprintPlan } from "../../campaign/fingerprint.ts";
import { decide, globToRegExp, matchesAny, readStatus } from "../../campaign/resume.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../common/atomic-write.ts";
import type { Experiment } from "../../config/expand.ts";
import { loadPlan } from "../../config/plan.ts";
import { experimentDir, type Fingerprint, RAW_FILES } from "../../formats/raw-layout.ts";
import { runCli, tempDir, writeMatrix } from "./helpers.ts";

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

describe("--only that matches nothing", () => {
  const MATRIX = `
campaign: only
server: { kind: sim, model: m, port: auto }
load: { engine: node, mode: closed, warmup: 0s, duration: 1s, max_tokens: 4 }
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1, 2]
  users: [2]
`;

  it("is refused with exit 2 naming --only, before anything runs or is written", async () => {
    const matrix = await writeMatrix(dir.path, MATRIX);
    const results = join(dir.path, "results");
    for (const extra of [[], ["--dry-run"]]) {
      const run = await runCli([
        "campaign",
        matrix,
        "--results",
        results,
        "--only",
        "g9-*",
        ...extra,
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("--only: g9-* matches no experiment");
      expect(run.stderr).toContain("g1-tp1-u2-r1");
      expect(existsSync(join(results, "raw"))).toBe(false);
    }
    // A glob that matches keeps working (dry run: nothing starts).
    const ok = await runCli([
      "campaign",
      matrix,
      "--results",
      results,
      "--only",
      "g2-*",
      "--dry-run",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("Would run 1 of 2 experiments");
  });
});

describe("fingerprints", () => {
  const FP_MATRIX = `
campaign: fp
server: { kind: sim, model: m, port: auto, env: { HF_TOKEN: "\${FP_HF_TOKEN}" } }
load: { engine: node, mode: closed, users: 2, duration: 1s, max_tokens: 4 }
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
`;

  it("change with the prompt file's bytes and the resolved env, and hold no env value", async () => {
    const file = await writeMatrix(dir.path, FP_MATRIX);
    const plan = await loadPlan(file);
    const env = { FP_HF_TOKEN: "hf-value-never-stored" };
    const before = (await fingerprintPlan(plan, env)).get("g1-tp1-r1");
    if (!before) throw new Error("no fingerprint");
    expect(JSON.stringify(before)).not.toContain("hf-value-never-stored");
    expect(fingerprintChanges(before, before)).toEqual([]);

    await appendFile(join(dir.path, "prompts.txt"), "\nOne more prompt.");
    const edited = (await fingerprintPlan(plan, env)).get("g1-tp1-r1");
    expect(fingerprintChanges(before, edited as Fingerprint)).toEqual(["prompt set changed"]);

    const otherToken = (await fingerprintPlan(plan, { FP_HF_TOKEN: "another" })).get("g1-tp1-r1");
    expect(fingerprintChanges(edited, otherToken as Fingerprint)).toEqual(["server env changed"]);
    expect(fingerprintChanges(undefined, before)).toEqual([
      "no fingerprint recorded (an older vscale ran it)",
    ]);
  });
});
