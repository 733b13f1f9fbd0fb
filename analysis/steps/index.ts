/**
 * `vscale fit-steps`'s library: read measured step files, fit a step-time
 * profile, and print it (coefficients with 95% intervals, held-out error).
 */

import { basename } from "node:path";
import { DataError } from "../../common/errors.ts";
import type { LinearPart, StepProfile } from "../../formats/step-profile.ts";
import { withEngine } from "../aggregate/duck.ts";
import { type FitStepsResult, fitStepProfile } from "./fit-profile.ts";
import { readStepFile, type StepRow } from "./read-steps.ts";

export { type FitStepsResult, fitStepProfile } from "./fit-profile.ts";
export { readStepFile, type StepRow } from "./read-steps.ts";

/** Llama-3-8B's layer count: what a per-layer grid (../shared/fixtures/h200) is scaled to. */
export const DEFAULT_LAYERS = 32;
export const DEFAULT_BASE_PROFILE = "llama-8b-h100";

export interface FitStepFilesOptions {
  tp?: number;
  layers?: number;
  folds?: number;
  seed?: number;
  baseProfile?: string;
}

/** A fit refused for want of rows says why the rows were skipped (the first few, in its one line). */
function withRowReasons(error: unknown, warnings: readonly string[]): unknown {
  if (!(error instanceof DataError) || warnings.length === 0) return error;
  const shown = warnings.slice(0, 3).join("; ");
  const more = warnings.length > 3 ? `; and ${warnings.length - 3} more` : "";
  return new DataError(`${error.message}: ${shown}${more}`, error.location, { cause: error });
}

export async function fitStepFiles(
  files: readonly string[],
  options: FitStepFilesOptions = {},
): Promise<FitStepsResult> {
  const warnings: string[] = [];
  const rows: StepRow[] = [];
  const sources: StepProfile["source"]["files"] = [];
  const layers = options.layers ?? DEFAULT_LAYERS;
  let perLayer = false;
  await withEngine(async (engine) => {
    for (const file of files) {
      const read = await readStepFile(engine, file, { tp: options.tp ?? 1, layers }, (w) =>
        warnings.push(w),
      );
      perLayer ||= read.perLayer;
      rows.push(...read.rows);
      sources.push({ name: basename(file), format: read.format, rows: read.rows.length });
    }
  });
  let result: ReturnType<typeof fitStepProfile>;
  try {
    result = fitStepProfile(rows, {
      folds: options.folds,
      seed: options.seed,
      baseProfile: options.baseProfile ?? DEFAULT_BASE_PROFILE,
      layers: perLayer ? layers : null,
      files: sources,
    });
  } catch (error) {
    throw withRowReasons(error, warnings);
  }
  return { profile: result.profile, warnings: [...warnings, ...result.warnings] };
}

function partLines(title: string, part: LinearPart | null): string[] {
  if (!part) return [];
  const lines = [`${title} (${part.rows} rows)`];
  for (const term of part.terms) {
    const name = term.tp === undefined ? term.name : `${term.name}@tp${term.tp}`;
    const ci = term.ci95
      ? `[${term.ci95[0].toPrecision(4)}, ${term.ci95[1].toPrecision(4)}]`
      : "(no interval)";
    lines.push(`  ${name.padEnd(26)} ${term.coef.toPrecision(5).padStart(12)} ms  95% CI ${ci}`);
  }
  return lines;
}

/** The profile as the console table `vscale fit-steps` prints. */
export function formatStepProfile(profile: StepProfile): string {
  const lines = [
    `step-time profile: ${profile.source.files.map((f) => `${f.name} (${f.format}, ${f.rows} rows)`).join(", ")}`,
    `tp levels: ${profile.tp_levels.join(", ")}${profile.source.layers ? `; per-layer times × ${profile.source.layers} layers` : ""}`,
    ...partLines(
      profile.execute.compute ? "execute = max(floor, compute); floor" : "execute",
      profile.execute.floor,
    ),
    ...partLines("execute compute", profile.execute.compute),
    ...partLines("schedule", profile.schedule),
    ...partLines("update", profile.update),
  ];
  const held = profile.held_out;
  lines.push(
    held
      ? `held-out execute error (${held.folds}-fold, ${held.rows} rows): MAPE ${held.mape_pct.toFixed(2)}%, bias ${held.bias_pct >= 0 ? "+" : ""}${held.bias_pct.toFixed(2)}%`
      : "held-out execute error: too few rows",
  );
  return lines.join("\n");
}
