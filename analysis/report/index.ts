/**
 * `buildReport`: the fits (as `vscale fit` wrote them, or one fit when those
 * are missing or stale: fit/index.ts fitsFor()), figures (Vega-Lite → SVG) and
 * the self-contained `report.html`. Writes `<results>/report.html` and
 * `<results>/figs/*.svg` atomically; the campaign runner and `vscale report`
 * call this.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { REPORT_FILES } from "../../formats/agg-layout.ts";
import type { Slo } from "../capacity/capacity.ts";
import { capacityRows } from "../capacity/table.ts";
import { type FitResult, fitsFor, type RunFitsOptions } from "../fit/index.ts";
import { readSummary } from "../fit/summary.ts";
import { type Why, writeRecommendations, writeWhy } from "../why/why-table.ts";
import { capacityFigures } from "./capacity-figure.ts";
import { reportFigures } from "./figures.ts";
import { type RenderedFigure, reportHtml } from "./html.ts";
import { readReportInputs } from "./inputs.ts";
import { renderSvg } from "./render-svg.ts";
import { recommendationsHtml, whySectionHtml } from "./why-section.ts";

/** The fit settings too, so the report draws the same fits `vscale fit` printed. */
export interface BuildReportOptions extends RunFitsOptions {
  /** The fits, when the caller has them already (a campaign fits once). */
  fits?: FitResult;
  /** Told why the stored fit tables were not used, when a fit had to run. */
  log?: (line: string) => void;
  /** The objectives: with them the report has the capacity chart (capacity-figure.ts). */
  slo?: Slo;
  /** The why tables, when the caller wrote them already (analysis/why/why-table.ts). */
  why?: Why;
}

export interface BuildReportResult {
  html: string;
  figs: string[];
  /** Why a fit ran (null: the stored fit tables, or the given fits, were drawn). */
  refitted: string | null;
}

/**
 * `figs/*.svg` is this report's figure set: an SVG an earlier report drew (a
 * group that is gone) would pass for a current figure. Other files (the
 * browser test's screenshot, the user's own) stay.
 */
async function removeStaleFigures(figsDir: string, current: readonly string[]): Promise<void> {
  const keep = new Set(current);
  let names: string[];
  try {
    names = await readdir(figsDir);
  } catch {
    return;
  }
  for (const name of names) {
    const file = join(figsDir, name);
    if (name.endsWith(".svg") && !keep.has(file)) await rm(file, { force: true });
  }
}

export async function buildReport(opts: BuildReportOptions): Promise<BuildReportResult> {
  const summary = opts.summary ?? (await readSummary(opts.resultsDir));
  const { result: fits, refitted } = opts.fits
    ? { result: opts.fits, refitted: null }
    : await fitsFor({ ...opts, summary });
  if (refitted) opts.log?.(`fitted again: ${refitted}`);
  const inputs = await readReportInputs(opts.resultsDir);
  const why = opts.why ?? (await writeWhy(opts.resultsDir, summary, fits));
  const recommendations = await writeRecommendations(opts.resultsDir, summary, opts.slo);
  const figures = [
    ...reportFigures(fits, summary, inputs),
    ...(opts.slo ? capacityFigures(summary, capacityRows(summary, opts.slo), opts.slo) : []),
  ];
  const rendered: RenderedFigure[] = [];
  const figs: string[] = [];
  for (const figure of figures) {
    const svg = await renderSvg(figure.spec);
    const file = join(opts.resultsDir, REPORT_FILES.figsDir, `${figure.name}.svg`);
    await writeFileAtomic(file, svg);
    figs.push(file);
    rendered.push({ name: figure.name, section: figure.section, svg, points: figure.points });
  }
  const html = join(opts.resultsDir, REPORT_FILES.html);
  await writeFileAtomic(
    html,
    reportHtml({
      fits,
      rows: summary.rows,
      columns: summary.columns,
      meta: inputs.experiments,
      figures: rendered,
      generatedAt: new Date().toISOString(),
      sectionsHtml: `${recommendationsHtml(recommendations)}\n${whySectionHtml(why)}`,
    }),
  );
  await removeStaleFigures(join(opts.resultsDir, REPORT_FILES.figsDir), figs);
  return { html, figs, refitted };
}
