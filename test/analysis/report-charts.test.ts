/**
 * What the report's charts show, checked on the data they draw and in the
 * browser. A raw open-loop campaign of two prompt sets (their latencies
 * planted 2× apart), two offered rates and GPU counts 1–8 is aggregated for
 * real, fitted and reported; one prompt set has a planted super-linear 2-GPU
 * run and one run is client-limited. At the SLO the short prompts meet it at
 * every rate (capacity a lower bound), the long ones cross it. A third
 * prompt set ran on 1 GPU only, 50 requests a run: too few for a p99.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { capacityRows } from "../../analysis/capacity/table.ts";
import { amdahlThroughput } from "../../analysis/fit/amdahl.ts";
import { type FitResult, runFits } from "../../analysis/fit/index.ts";
import { readSummary, type Summary } from "../../analysis/fit/summary.ts";
import { CAPACITY_MARKS, capacityChartData } from "../../analysis/report/capacity-figure.ts";
import {
  FLAG,
  LOAD_METRICS,
  latencyCdfData,
  latencyVsLoadData,
  runKey,
  scalingData,
} from "../../analysis/report/chart-data.ts";
import { buildReport } from "../../analysis/report/index.ts";
import { readReportInputs } from "../../analysis/report/inputs.ts";
import type { RequestRecord } from "../../formats/request-record.ts";
import { createRng } from "../../stats/rng.ts";
import {
  generatedRequests,
  syntheticInfo,
  writeSyntheticExperiment,
} from "../aggregate/synthetic-campaign.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);

const GPUS = [1, 2, 4, 8];
const PLANT = {
  short: { s: 0.1, latency: 1, seed: 1 },
  // The 2-GPU run of `long` is planted 30% above its curve: efficiency > 1.
  long: { s: 0.05, latency: 2, seed: 2 },
} as const;
const CLIENT_LIMITED = "long-tp4-rate16";
const RATES = [4, 16];
const SLO = { e2e_ms_p90: 14_000 };

/**
 * Latencies scaled by `factor`. Each request is sent where the generator
 * ended it (evenly over the window) and ends its latency later, so every
 * request counts for latency whatever its length; throughput counts those
 * that end inside the window.
 */
function scaled(records: Iterable<RequestRecord>, factor: number, promptSet: string) {
  return [...records].map((r) => {
    const e2e = r.e2e_ms === null ? null : r.e2e_ms * factor;
    return {
      ...r,
      prompt_set: promptSet,
      ttft_ms: r.ttft_ms === null ? null : r.ttft_ms * factor,
      e2e_ms: e2e,
      start_us: r.end_us,
      end_us: r.end_us + Math.round((e2e ?? 1) * 1000),
    };
  });
}

async function writeCampaign(resultsDir: string) {
  for (const [promptSet, plant] of Object.entries(PLANT)) {
    const rng = createRng(plant.seed);
    for (const rate of RATES) {
      for (const gpus of GPUS) {
        const experimentId = `${promptSet}-tp${gpus}-rate${rate}`;
        const boost = promptSet === "long" && gpus === 2 ? 1.3 : 1;
        const x = ((120 * gpus) / (1 + plant.s * (gpus - 1))) * boost;
        const count = Math.round(x * (1 + 0.02 * rng.normal()));
        const info = syntheticInfo({
          campaign: "charts",
          experimentId,
          factors: { gpus, tp: gpus, dp: 1, rate, prompt_set: promptSet },
        });
        const limited = experimentId === CLIENT_LIMITED;
        await writeSyntheticExperiment(resultsDir, {
          info: {
            ...info,
            load: { ...info.load, mode: "open", users: null, rate },
            prompt_set: { ...info.prompt_set, name: promptSet },
            client: {
              ...(info.client as NonNullable<typeof info.client>),
              limited,
              reasons: limited ? ["send lag p99 > 50 ms"] : [],
            },
          },
          requests: scaled(
            generatedRequests(experimentId, count, plant.seed * 100 + gpus * 10 + rate),
            plant.latency * (rate === 16 ? 1.5 : 1),
            promptSet,
          ),
        });
      }
    }
  }
  for (const rate of RATES) {
    const experimentId = `tiny-tp1-rate${rate}`;
    const info = syntheticInfo({
      campaign: "charts",
      experimentId,
      factors: { gpus: 1, tp: 1, dp: 1, rate, prompt_set: "tiny" },
    });
    await writeSyntheticExperiment(resultsDir, {
      info: {
        ...info,
        load: { ...info.load, mode: "open", users: null, rate },
        prompt_set: { ...info.prompt_set, name: "tiny" },
      },
      requests: scaled(generatedRequests(experimentId, 50, rate), 1, "tiny"),
    });
  }
}

let dir: string;
let summary: Summary;
let fits: FitResult;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-report-charts-"));
  await writeCampaign(dir);
  await aggregate({ resultsDir: dir });
  summary = await readSummary(dir);
  // One run per N: a band needs the residual interval, asked for (and labelled) explicitly.
  fits = await runFits({ resultsDir: dir, bootstrap: 200, seed: 3, ci: "residual" });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("latency vs offered load: percentiles are never averaged", () => {
  it("has one point per summary row and metric, in a panel per prompt set, with the row's own value and n", () => {
    const data = latencyVsLoadData(summary.rows, summary.columns);
    expect(data).not.toBeNull();
    if (!data) return;
    expect(data.loadColumn).toBe("rate");
    expect(data.panels).toEqual(["prompt_set=long", "prompt_set=short", "prompt_set=tiny"]);
    const ok = summary.rows.filter((r) => r.status === "ok");
    expect(data.points).toHaveLength(ok.length * LOAD_METRICS.length);
    const keys = data.points.map((p) => `${p.panel}|${p.metric}|${p.gpus}|${p.repeat}|${p.load}`);
    expect(new Set(keys).size).toBe(keys.length);
    const byId = new Map(ok.map((r) => [r.experiment_id, r]));
    for (const p of data.points) {
      const row = byId.get(p.experiment);
      const column = LOAD_METRICS.find((m) => m.title === p.metric)?.column as string;
      expect(p.ms).toBe(row?.[column] ?? null);
      expect(p.panel).toBe(`prompt_set=${row?.prompt_set}`);
      expect(p.n).toBeGreaterThan(0);
      expect(p.series).toMatch(/\(n = [\d,–]+ per point\)$/);
    }
    // The planted 2× between prompt sets survives: each panel keeps its own level.
    const at = (panel: string) =>
      data.points.find(
        (p) => p.panel === panel && p.gpus === 1 && p.load === 4 && p.metric.startsWith("E2E"),
      )?.ms as number;
    expect(at("prompt_set=long") / at("prompt_set=short")).toBeGreaterThan(1.5);
    const mean = (at("prompt_set=long") + at("prompt_set=short")) / 2;
    expect(data.points.some((p) => p.ms !== null && Math.abs(p.ms - mean) < 1e-9)).toBe(false);
  });

  it("keeps a null percentile as a flagged cross with its reason, and draws what the sample allows", () => {
    const data = latencyVsLoadData(summary.rows, summary.columns);
    const tiny = data?.points.filter((p) => p.panel === "prompt_set=tiny") ?? [];
    expect(tiny).toHaveLength(RATES.length * LOAD_METRICS.length);
    for (const p of tiny) {
      if (p.metric.startsWith("TTFT p99")) {
        expect(p.ms).toBeNull();
        expect(p.flag).toBe(FLAG.fewSamples);
        expect(p.flagText).toMatch(/^ttft_ms .*p99.* null: \d+ values < 100$/);
      } else {
        expect(p.ms).toBeGreaterThan(0);
        expect(p.flag).toBe(FLAG.none);
      }
    }
    expect(data?.missing).toBe(RATES.length);
  });

  it("flags the client-limited run on its points", () => {
    const data = latencyVsLoadData(summary.rows, summary.columns);
    const flagged = data?.points.filter((p) => p.flag.includes(FLAG.clientLimited)) ?? [];
    expect(new Set(flagged.map((p) => p.experiment))).toEqual(new Set([CLIENT_LIMITED]));
  });
});

describe("capacity chart", () => {
  it("draws every run's own figure per workload, and marks bounds as bounds", () => {
    const data = capacityChartData(
      summary,
      capacityRows(summary, SLO),
      "e2e_ms_p90",
      SLO.e2e_ms_p90,
    );
    expect(data?.panels).toEqual(["prompt_set=long", "prompt_set=short", "prompt_set=tiny"]);
    const ok = summary.rows.filter((r) => r.status === "ok");
    expect(data?.points).toHaveLength(ok.length);
    const byId = new Map(ok.map((r) => [r.experiment_id, r]));
    for (const p of data?.points ?? []) expect(p.ms).toBe(byId.get(p.experiment)?.e2e_ms_p90);
    const kinds = (panel: string) =>
      new Set(data?.marks.filter((m) => m.panel === panel).map((m) => m.kind));
    expect(kinds("prompt_set=short")).toEqual(new Set([CAPACITY_MARKS.lower]));
    expect(kinds("prompt_set=long")).toEqual(new Set([CAPACITY_MARKS.interpolated]));
    expect(kinds("prompt_set=tiny")).toEqual(new Set([CAPACITY_MARKS.lower]));
    expect(data?.marks).toHaveLength(2 * GPUS.length + 1);
  });
});

describe("scaling charts", () => {
  it("normalise runs and curve by the same fitted X₁: a run's distance from the curve is its residual", () => {
    for (const fit of fits.groups) {
      const data = scalingData(fit, fits.metric, summary.rows);
      expect(data.x1).toBe(fit.amdahl.x1);
      for (const run of data.runs) {
        const curve = amdahlThroughput(fit.amdahl, run.n);
        const onCurve = data.curve.find((c) => c.n === run.n && c.range === "measured");
        expect(onCurve?.amdahl).toBeCloseTo(curve, 9);
        expect((run.speedup - (onCurve?.speedup as number)) * data.x1).toBeCloseTo(
          run.x - curve,
          6,
        );
        expect(run.efficiency).toBeCloseTo(run.speedup / run.n, 12);
      }
    }
  });

  it("flags the planted super-linear 2-GPU runs and only runs above efficiency 1", () => {
    for (const fit of fits.groups) {
      const data = scalingData(fit, fits.metric, summary.rows);
      for (const run of data.runs)
        expect(run.flag.includes(FLAG.superlinear)).toBe(run.n > 1 && run.efficiency > 1);
      const two = data.runs.filter((r) => r.n === 2);
      if (fit.key.prompt_set === "long")
        expect(two.every((r) => r.flag.includes(FLAG.superlinear))).toBe(true);
    }
  });

  it("draws the curve beyond the measured N as a separate, extrapolated range", () => {
    const data = scalingData(fits.groups[0] as never, fits.metric, summary.rows);
    expect(data.maxN).toBe(8);
    expect(Math.max(...data.curve.filter((c) => c.range === "measured").map((c) => c.n))).toBe(8);
    expect(Math.min(...data.curve.filter((c) => c.range === "extrapolated").map((c) => c.n))).toBe(
      8,
    );
    expect(data.curve.filter((c) => c.range === "extrapolated").every((c) => c.usl === null)).toBe(
      true,
    );
    expect(data.band).toMatch(/95% CI for s/);
  });

  it("draws no band, and says why, where the fit has no CI (no repeats, the default)", async () => {
    const plain = await runFits({ resultsDir: dir, bootstrap: 200, seed: 3 });
    const data = scalingData(plain.groups[0] as never, plain.metric, summary.rows);
    expect(data.band).toBeNull();
    expect(data.noBand).toMatch(/no repeats/);
    expect(data.curve.every((c) => c.lo === null && c.hi === null)).toBe(true);
  });
});

describe("latency CDFs", () => {
  it("read the requests the summary's latency figures read: E2E n is the runs' e2e_ms_n summed", async () => {
    const inputs = await readReportInputs(dir);
    const windows = new Map(
      inputs.experiments.map((m) => [runKey(m.campaign, m.experimentId), m.window]),
    );
    const byId = new Map(summary.rows.map((r) => [r.experiment_id, r]));
    for (const fit of fits.groups) {
      const data = latencyCdfData(fit, inputs.requests, windows);
      for (const gpus of GPUS) {
        const rows = fit.experiments.map((id) => byId.get(id)).filter((r) => r?.gpus === gpus);
        const n = rows.reduce((acc, r) => acc + (r?.e2e_ms_n as number), 0);
        expect(n).toBeGreaterThan(0);
        const label = data?.series.find((l) =>
          l.startsWith(gpus === 1 ? "1 GPU " : `${gpus} GPUs `),
        );
        expect(label).toMatch(new RegExp(`(n = ${n}|, ${n} E2E)\\)$`));
      }
    }
  });
});

describe.skipIf(!hasChromium)("the report in Chromium", () => {
  it("shows facets, axis titles with units, log₂ GPU ticks at 1/2/4/8 and n in legends", async () => {
    const { html } = await buildReport({ resultsDir: dir, fits, slo: SLO });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(pathToFileURL(html).href);
      const texts = (name: string, selector: string) =>
        page.$$eval(`figure[data-chart="${name}"] ${selector}`, (nodes) =>
          nodes.map((n) => n.textContent ?? ""),
        );
      const load = await texts("latency-vs-load", "text");
      expect(load).toEqual(expect.arrayContaining(["prompt_set=long", "prompt_set=short"]));
      expect(load).toEqual(
        expect.arrayContaining(["offered rate (requests/s)", "E2E latency p90 (ms)"]),
      );
      expect(load.some((t) => /^1 GPU \(n = [\d,–]+ per point\)$/.test(t))).toBe(true);
      expect(load).toContain(FLAG.clientLimited);
      expect(load).toContain(FLAG.fewSamples);

      const throughput = await texts("throughput-1", ".role-axis text");
      expect(throughput).toEqual(
        expect.arrayContaining(["GPUs (N, log₂ scale)", "Output throughput (tokens/s)"]),
      );
      const ticks = await texts("throughput-1", ".role-axis-label text");
      expect(ticks.filter((t) => /^\d+$/.test(t)).slice(0, 4)).toEqual(["1", "2", "4", "8"]);
      const legend = await texts("throughput-1", ".role-legend text");
      expect(legend.some((t) => /^measured runs \(n = 4, 1 per N\)$/.test(t))).toBe(true);
      expect(legend).toContain("extrapolated (N > 8)");
      const subtitle = await texts("throughput-1", ".role-title-subtitle text");
      expect(subtitle.join(" ")).toMatch(/Band: Amdahl at the ends of the 95% CI for s/);

      const capacity = await texts("capacity-1", "text");
      expect(capacity).toEqual(
        expect.arrayContaining([
          "prompt_set=long",
          "prompt_set=short",
          CAPACITY_MARKS.interpolated,
          CAPACITY_MARKS.lower,
        ]),
      );

      const cdf = await texts("latency-cdf-1", ".role-legend text");
      expect(cdf.some((t) => /^1 GPU \(n = \d+\)$/.test(t))).toBe(true);

      const shot = join(dir, "figs", "report.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      // VSCALE_KEEP_SCREENSHOT=file.png keeps a copy to look at (the temp dir goes).
      const keep = process.env.VSCALE_KEEP_SCREENSHOT;
      if (keep) await copyFile(shot, keep);
    } finally {
      await browser.close();
    }
  });
});
