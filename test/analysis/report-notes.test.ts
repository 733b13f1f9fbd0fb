/**
 * Notes stated once: a raw campaign aggregated, fitted and reported, with
 * three fitted groups (users 8, 16, 32 at 1, 2, 4 GPUs, one run each, so
 * they share the fit's notes) and two groups measured at only 1 and 2 GPUs
 * (skipped, for the same reason). The report lists each distinct note and
 * skip reason once, naming its groups or "all N groups"; so does the console.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { type FitResult, formatFitTable, runFits } from "../../analysis/fit/index.ts";
import { buildReport } from "../../analysis/report/index.ts";
import {
  generatedRequests,
  syntheticInfo,
  writeSyntheticExperiment,
} from "../aggregate/synthetic-campaign.ts";

const PLAN = [
  { users: 8, gpus: [1, 2, 4] },
  { users: 16, gpus: [1, 2, 4] },
  { users: 32, gpus: [1, 2, 4] },
  { users: 64, gpus: [1, 2] },
  { users: 128, gpus: [1, 2] },
];

let dir: string;
let fits: FitResult;
let page: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-notes-"));
  let seed = 1;
  for (const { users, gpus } of PLAN) {
    for (const n of gpus) {
      const experimentId = `tp${n}-u${users}-r1`;
      await writeSyntheticExperiment(dir, {
        info: syntheticInfo({ experimentId, factors: { gpus: n, tp: n, dp: 1, users } }),
        // Amdahl with s = 0.1: 200 requests at N = 1.
        requests: generatedRequests(
          experimentId,
          Math.round((200 * n) / (1 + 0.1 * (n - 1))),
          seed++,
        ),
      });
    }
  }
  await aggregate({ resultsDir: dir });
  fits = await runFits({ resultsDir: dir, bootstrap: 50 });
  page = await readFile((await buildReport({ resultsDir: dir, fits })).html, "utf8");
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The bullets under a report heading. */
const bullets = (heading: string) => {
  const list = new RegExp(`<h3>${heading}</h3><ul>(.*?)</ul>`).exec(page)?.[1] ?? "";
  return [...list.matchAll(/<li>(.*?)<\/li>/g)].map((m) => m[1] as string);
};

describe("notes stated once", () => {
  it("lists a skip reason shared by two groups once, naming both", () => {
    expect(fits.skipped).toHaveLength(2);
    expect(fits.skipped[0]?.reason).toBe(fits.skipped[1]?.reason);
    const skipped = bullets("Skipped groups");
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/need ≥ 3 \(all 2 skipped groups\)$/);
    const console = formatFitTable(fits).split("Skipped:\n")[1]?.split("\n") ?? [];
    expect(console.filter((l) => l.includes("need ≥ 3"))).toHaveLength(1);
  });

  it("lists each distinct fit note once; a note every group has says so", () => {
    expect(fits.groups).toHaveLength(3);
    const distinct = new Set(fits.groups.flatMap((g) => g.notes));
    const notes = bullets("Notes");
    expect(notes).toHaveLength(distinct.size);
    expect(new Set(notes).size).toBe(notes.length);
    // One run per GPU count in every group: at least one note is true of all three.
    const shared = [...distinct].filter((n) => fits.groups.every((g) => g.notes.includes(n)));
    expect(shared.length).toBeGreaterThan(0);
    for (const n of shared) expect(notes).toContain(`${n} (all 3 groups)`);
    const console = formatFitTable(fits);
    for (const n of distinct) expect(console.split(n).length - 1, n).toBe(1);
  });
});
