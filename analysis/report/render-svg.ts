/**
 * Vega-Lite spec → SVG string in Node: compile to Vega, run a headless View
 * (renderer "none": no canvas, text measured by estimate), serialise to SVG.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
