/**
 * The report from aggregation's real output: a raw campaign (two planted
 * Amdahl curves, a failed experiment, seed 000/001/003 profiles in one
 * experiment folder, as a campaign leaves them) is aggregated, then reported.
 */
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import * as fitGroup from "../../analysis/fit/fit-group.ts";
import { fitPaths, runFits } from "../../analysis/fit/index.ts";
import { stepPhaseShares } from "../../analysis/report/figures.ts";
import { buildReport } from "../../analysis/report/index.ts";
import { readReportInputs } from "../../analysis/report/inputs.ts";
import { createRng } from "../../stats/rng.ts";
import { AGG_FIXTURES } from "../aggregate/fixtures.ts";
import {
  generatedRequests,
  syntheticInfo,
  writeSyntheticExperiment,
} from "../aggregate/synthetic-campaign.ts";
import { runCli } from "../helpers/vscale-cli.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `report test: ${CHROMIUM} missing (apt-get install chromium); browser check skipped`,
  );

const TIMES = { started_at: "2025-07-19T10:00:00Z", finished_at: "2025-07-19T11:00:00Z" };

/** One raw experiment per GPU count × repeat; requests in the 10 s window follow X(N) = 30·N/(1 + s(N − 1)). */
async function writeCurve(resultsDir: string, users: number, s: number, seed: number) {
  const rng = createRng(seed);
  for (const gpus of [1, 2, 4, 8]) {
    for (const repeat of [1, 2]) {
      const experimentId = `tp${gpus}-u${users}-r${repeat}`;
      const count = Math.round(((30 * gpus) / (1 + s * (gpus - 1))) * (1 + 0.02 * rng.normal()));
      const info = syntheticInfo({
        campaign: "syn",
        experimentId,
        repeat,
        factors: { gpus, tp: gpus, dp: 1, users },
      });
      await writeSyntheticExperiment(resultsDir, {
        info: {
          ...info,
          server: { ...info.server, version: "0.9.9-sim" },
          times: { ...info.times, ...TIMES },
        },
        requests: generatedRequests(experimentId, count, seed * 100 + gpus * 10 + repeat),
      });
    }
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-report-"));
  await writeCurve(dir, 16, 0.1, 1);
  await writeCurve(dir, 64, 0.12, 2);
  const broken = syntheticInfo({
    campaign: "syn",
    experimentId: "tp8-u64-broken",
    repeat: 9,
    factors: { gpus: 8, tp: 8, dp: 1, users: 64 },
  });
  await writeSyntheticExperiment(dir, {
    info: { ...broken, times: { ...broken.times, ...TIMES } },
    status: {
      status: "failed",
      reason: "server <crashed>",
      finished_at: TIMES.finished_at,
      requests: 0,
    },
  });
  // Seed 000's step CSV, seed 001's trace and seed 003's session, where a campaign leaves them.
  await cp(join(AGG_FIXTURES, "profiles"), join(dir, "raw", "syn", "tp1-u16-r1", "profiles"), {
    recursive: true,
  });
  await aggregate({ resultsDir: dir });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("buildReport", () => {
  it("writes report.html and one SVG per figure, self-contained", async () => {
    const { html, figs } = await buildReport({ resultsDir: dir });
    const names = (await readdir(join(dir, "figs"))).filter((f) => f.endsWith(".svg")).sort();
    expect(names).toEqual(figs.map((f) => f.split("/").pop()).sort());
    for (const stem of ["throughput", "speedup", "efficiency", "karp-flatt", "latency-cdf"])
      expect(names).toEqual(expect.arrayContaining([`${stem}-1.svg`, `${stem}-2.svg`]));
    expect(names).toEqual(
      expect.arrayContaining(["latency-vs-load.svg", "step-phases.svg", "kernels.svg"]),
    );
    const page = await readFile(html, "utf8");
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(page).toMatch(/0\.9\.9-sim/);
    expect(page).toMatch(/2025-07-19T10:00:00Z → 2025-07-19T11:00:00Z/);
    expect(page).toMatch(/tp8-u64-broken.*failed.*server &lt;crashed&gt;/);
    expect(page).toMatch(/campaign<\/th><td>syn</);
    expect(page).toMatch(/users ∈ \{16, 64\}/);
    expect((page.match(/<svg/g) ?? []).length).toBe(figs.length);
  });

  it.skipIf(!hasChromium)(
    "renders every chart with data in headless Chromium, without console errors",
    async () => {
      const { html, figs } = await buildReport({ resultsDir: dir });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
      try {
        const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
        const errors: string[] = [];
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("request", (r) => {
          if (!r.url().startsWith("file:")) errors.push(`network request ${r.url()}`);
        });
        await page.goto(pathToFileURL(html).href);
        const charts = await page.$$eval("figure.chart", (nodes) =>
          nodes.map((n) => {
            const svg = n.querySelector("svg");
            const box = svg?.getBoundingClientRect();
            const marks = n.querySelectorAll(
              "g.mark-symbol path, g.mark-line path, g.mark-rect path, g.mark-area path",
            ).length;
            return {
              name: n.getAttribute("data-chart"),
              points: Number(n.getAttribute("data-points")),
              width: box?.width ?? 0,
              height: box?.height ?? 0,
              marks,
            };
          }),
        );
        expect(charts).toHaveLength(figs.length);
        for (const chart of charts) {
          expect(chart.points, `${chart.name} has data`).toBeGreaterThan(0);
          expect(chart.width, `${chart.name} width`).toBeGreaterThan(100);
          expect(chart.height, `${chart.name} height`).toBeGreaterThan(100);
          expect(chart.marks, `${chart.name} drew marks`).toBeGreaterThan(0);
        }
        expect(errors).toEqual([]);
        const shot = join(dir, "figs", "report.png");
        await page.screenshot({ path: shot, fullPage: true });
        expect(existsSync(shot)).toBe(true);
      } finally {
        await browser.close();
      }
    },
  );

  it("removes figures of an earlier report that this one no longer draws, and nothing else", async () => {
    // As left by an earlier report with a third group, plus a file that is not a figure.
    await writeFile(join(dir, "figs", "throughput-3.svg"), "<svg/>");
    await writeFile(join(dir, "figs", "notes.txt"), "mine");
    const { figs } = await buildReport({ resultsDir: dir });
    const names = (await readdir(join(dir, "figs"))).filter((f) => f.endsWith(".svg")).sort();
    expect(names).toEqual(figs.map((f) => f.split("/").pop()).sort());
    expect(existsSync(join(dir, "figs", "notes.txt"))).toBe(true);
  });

  it("draws the step-phase chart from aggregation's step_phases.parquet (seed 000)", async () => {
    const inputs = await readReportInputs(dir);
    expect(inputs.stepPhases?.rows).toHaveLength(4);
    // The fixture's four steps: mean execute share 0.7, scheduler 0.1 (test/aggregate/profiles.test.ts).
    const shares = Object.fromEntries(
      stepPhaseShares(inputs.stepPhases!).map((v) => [`${v.run} ${v.phase}`, v.share]),
    );
    expect(Object.keys(shares)).toEqual([
      "syn/tp1-u16-r1 scheduler",
      "syn/tp1-u16-r1 execute",
      "syn/tp1-u16-r1 update",
    ]);
    expect(shares["syn/tp1-u16-r1 execute"]).toBeCloseTo(0.7, 12);
    expect(shares["syn/tp1-u16-r1 scheduler"]).toBeCloseTo(0.1, 12);
    expect(shares["syn/tp1-u16-r1 update"]).toBeCloseTo(0.2, 12);
    const { code, stdout } = await runCli(["report", "--results", dir, "--bootstrap", "50"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Wrote .*report\.html/);
    const page = await readFile(join(dir, "report.html"), "utf8");
    expect(page).toMatch(/data-chart="step-phases" data-points="3"/);
    const svg = await readFile(join(dir, "figs", "step-phases.svg"), "utf8");
    for (const share of ["70", "10", "20"])
      expect(svg).toMatch(new RegExp(`share of step time: ${share}(\\.0*)?%`));
  });
});

describe("vscale report draws the fits vscale fit wrote", () => {
  it("does no fitting after vscale fit, and fits once when the tables are stale", async () => {
    await runFits({ resultsDir: dir, bootstrap: 60, seed: 5 });
    const spy = vi.spyOn(fitGroup, "fitPoints");
    try {
      const drawn = await buildReport({ resultsDir: dir, bootstrap: 60, seed: 5 });
      expect(spy).not.toHaveBeenCalled();
      expect(drawn.refitted).toBeNull();
      const page = await readFile(drawn.html, "utf8");
      expect(page).toContain("B = 60, seed 5");

      // Other options than the tables were fitted with: one fit, for these options.
      const other = await buildReport({ resultsDir: dir, bootstrap: 40, seed: 5 });
      expect(other.refitted).toMatch(/other --metric\/--by\/--bootstrap\/--seed/);
      expect(spy).toHaveBeenCalledTimes(2);
      spy.mockClear();
      // The tables now hold that fit: drawing it again fits nothing.
      expect((await buildReport({ resultsDir: dir, bootstrap: 40, seed: 5 })).refitted).toBeNull();
      expect(spy).not.toHaveBeenCalled();

      // A summary newer than the fit tables (aggregation ran again): fitted again.
      const later = new Date(Date.now() + 60_000);
      await utimes(join(dir, "agg", "summary.parquet"), later, later);
      const stale = await buildReport({ resultsDir: dir, bootstrap: 40, seed: 5 });
      expect(stale.refitted).toBe("older than the summary");
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
      const earlier = new Date(Date.now() - 60_000);
      await utimes(join(dir, "agg", "summary.parquet"), earlier, earlier);
    }
  });

  it("as processes: vscale report leaves the tables vscale fit wrote untouched", async () => {
    const fit = await runCli(["fit", "--results", dir, "--bootstrap", "50"]);
    expect(fit.code).toBe(0);
    const before = (await stat(fitPaths(dir).parquet)).mtimeMs;
    const report = await runCli(["report", "--results", dir, "--bootstrap", "50"]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(`Drew the fits in ${fitPaths(dir).parquet}`);
    expect((await stat(fitPaths(dir).parquet)).mtimeMs).toBe(before);
    const csv = await readFile(fitPaths(dir).csv, "utf8");
    expect(report.stdout).not.toMatch(/fitted again/);
    expect(csv.split("\n")[0]).toMatch(/^group,campaign,users,/);
  });
});
