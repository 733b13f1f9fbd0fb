/**
 * Vega-Lite spec → SVG string in Node: compile to Vega, run a headless View
 * (renderer "none": no canvas, text measured by estimate), serialise to SVG.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

interface TextItem {
  fontSize?: number;
  text?: unknown;
}

/**
 * Without a canvas vega guesses 0.8 em per character, so legends and titles
 * reserve about a third more width than a browser draws them in and two
 * charts no longer fit side by side; 0.6 em is closer for the sans-serif
 * fonts the report uses, bold titles included. (vega's documented hook:
 * a user `textMetrics.width`, as vl-convert sets.)
 */
function estimateTextWidth(item: TextItem, text?: unknown): number {
  const value = String(text ?? item.text ?? "").trim();
  return Math.ceil(0.6 * value.length * (item.fontSize ?? 11));
}

const metrics = (vega as unknown as { textMetrics: { width: typeof estimateTextWidth } })
  .textMetrics;
metrics.width = estimateTextWidth;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
