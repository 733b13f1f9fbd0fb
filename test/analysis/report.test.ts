import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport } from "../../analysis/report/index.ts";
import { amdahlRows, writeSyntheticSummary } from "./helpers/synthetic-summary.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `report test: ${CHROMIUM} missing (apt-get install chromium); browser check skipped`,
  );

async function duck(sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(sql);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-report-"));
  const rows = [
    ...amdahlRows({ s: 0.1, seed: 1, users: 16 }),
    ...amdahlRows({ s: 0.12, seed: 2, users: 64 }),
    {
      experiment_id: "tp8-u64-broken",
      repeat: 9,
      gpus: 8,
      tp: 8,
      dp: 1,
      users: 64,
      status: "failed" as const,
      status_reason: "server <crashed>",
      output_tokens_per_s: null,
    },
  ];
  await writeSyntheticSummary(dir, rows);
  const agg = join(dir, "agg");
  // 200 requests per experiment; latency falls with GPUs, as in a real campaign.
  await duck(`COPY (
    SELECT 'syn' AS campaign, e.id AS experiment_id, e.gpus::BIGINT AS gpus, 'node' AS engine,
      e.id || '-' || i AS request_id, true AS ok, i > 10 AS in_window, false AS warmup,
      (40 + 200.0 / e.gpus * random())::DOUBLE AS ttft_ms, (600 + 4000.0 / e.gpus * random())::DOUBLE AS e2e_ms
    FROM (VALUES ${rows
      .filter((r) => r.status === undefined)
      .map((r) => `('${r.experiment_id}', ${r.gpus})`)
      .join(", ")}) AS e(id, gpus), range(200) AS t(i)
  ) TO '${join(agg, "requests.parquet")}' (FORMAT parquet)`);
  await duck(`COPY (
    SELECT (g % 4 + 1)::BIGINT AS gpus, 0.027 * (1 + 0.1 * random()) AS scheduler_time,
      0.955 AS execute_time, 0.018 AS update_time
    FROM range(400) AS t(g)
  ) TO '${join(agg, "step_phases.parquet")}' (FORMAT parquet)`);
  await duck(`COPY (
    SELECT 'ampere_fp16_s16816gemm_fp16_' || k AS name, (100 - k)::BIGINT AS calls,
      (1000.0 * (30 - k)) AS total_us, 10.0 AS mean_us, (30 - k) / 465.0 AS share
    FROM range(30) AS t(k)
  ) TO '${join(agg, "kernels.parquet")}' (FORMAT parquet)`);
  const exp = join(dir, "raw", "syn", "tp1-u16-r1");
  await mkdir(exp, { recursive: true });
  await writeFile(
    join(exp, "experiment.json"),
    JSON.stringify({
      campaign: "syn",
      server: { kind: "sim", version: "0.9.9-sim" },
      vscale_version: "0.1.0",
      host: { node: "v20.0.0" },
      times: { started_at: "2025-07-19T10:00:00Z", finished_at: "2025-07-19T11:00:00Z" },
    }),
  );
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
});
