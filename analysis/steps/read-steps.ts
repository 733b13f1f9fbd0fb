/**
 * Measured steps from the three files `vscale fit-steps` reads, each told
 * apart by its header (../shared/formats/README.md):
 * - seed 000's `execution_stats_*.csv`: scheduler/execute/update seconds and
 *   `num_scheduled_tokens` (1 = a decode, more = prefill tokens);
 * - profilemate's `forward_pass_timing.csv` (seed 003): forward ms per batch;
 * - a plain grid `tp, phase, batch, tokens, context, ms` (or `ms_per_layer`,
 *   as ../shared/fixtures/h200/step_time_grid.csv).
 * A malformed row is reported (file:line, field) and skipped; a file of none
 * of these shapes is a DataError.
 */
import { DataError } from "../../common/errors.ts";
import type { StepFeatures } from "../../sim/engine/fitted-cost.ts";
import type { Session } from "../aggregate/duck.ts";
import { inputFileProblem } from "../aggregate/input-files.ts";
import { readCsv } from "../aggregate/read-csv.ts";
import { parseScheduledTokens } from "../aggregate/step-phases.ts";

export type StepFileFormat = "seed000-steps" | "profilemate-forward" | "grid";

export interface StepRow {
  file: string;
  line: number;
  x: StepFeatures;
  /** False when the file does not say how much context the step attended (seed 000, profilemate). */
  contextKnown: boolean;
  executeMs: number;
  scheduleMs: number | null;
  updateMs: number | null;
}

export interface ReadOptions {
  /** TP of files that do not say (seed 000, profilemate). */
  tp: number;
  /** Layers a per-layer time is multiplied by. */
  layers: number;
}

export interface StepFile {
  format: StepFileFormat;
  rows: StepRow[];
  /** Set when times were per layer and multiplied by `layers`. */
  perLayer: boolean;
}

type Warn = (message: string) => void;

const FORMATS: { format: StepFileFormat; columns: string[] }[] = [
  {
    format: "seed000-steps",
    columns: ["scheduler_time", "execute_time", "update_time", "num_scheduled_tokens"],
  },
  {
    format: "profilemate-forward",
    columns: ["phase", "batch_size", "num_tokens", "forward_time_ms"],
  },
  { format: "grid", columns: ["tp", "phase", "batch", "tokens", "context"] },
];

export async function readStepFile(
  session: Session,
  file: string,
  options: ReadOptions,
  warn: Warn,
): Promise<StepFile> {
  const problem = await inputFileProblem(file);
  if (problem !== null) throw new DataError(problem, { file });
  const { names, records } = await readCsv(session, file, warn, { exactFields: true });
  const found = FORMATS.find((f) => f.columns.every((c) => names.includes(c)));
  const msColumn = names.find((n) => n === "ms" || n === "ms_per_layer");
  if (!found || (found.format === "grid" && !msColumn)) {
    throw new DataError(
      "not a step-time file: expected the columns of seed 000's execution_stats CSV " +
        "(scheduler_time, execute_time, update_time, num_scheduled_tokens), profilemate's " +
        "forward_pass_timing.csv (phase, batch_size, num_tokens, forward_time_ms) or a grid " +
        "(tp, phase, batch, tokens, context, ms)",
      { file, line: 1, field: "header" },
    );
  }
  const perLayer = msColumn === "ms_per_layer";
  const rows: StepRow[] = [];
  for (const { line, fields } of records) {
    const cell = (name: string) => (fields[names.indexOf(name)] ?? "").trim();
    const bad = (name: string, expected: string) => {
      warn(`${file}:${line}: ${name}: expected ${expected}, got "${cell(name)}"; row skipped`);
      return null;
    };
    const num = (name: string, test: (v: number) => boolean, expected: string) => {
      const v = Number(cell(name));
      return cell(name) !== "" && Number.isFinite(v) && test(v) ? v : bad(name, expected);
    };
    const row = (() => {
      switch (found.format) {
        case "seed000-steps":
          return seedRow(file, line, cell, num, bad, options);
        case "profilemate-forward":
          return profilemateRow(file, line, cell, num, bad, options);
        case "grid":
          return gridRow(
            file,
            line,
            cell,
            num,
            bad,
            perLayer ? options.layers : 1,
            msColumn ?? "ms",
          );
      }
    })();
    if (row) rows.push(row);
  }
  return { format: found.format, rows, perLayer };
}

type Cell = (name: string) => string;
type Num = (name: string, test: (v: number) => boolean, expected: string) => number | null;
type Bad = (name: string, expected: string) => null;

const positive = (v: number) => v > 0;
const nonNegative = (v: number) => v >= 0;
const count = (v: number) => Number.isInteger(v) && v >= 0;

function seedRow(file: string, line: number, cell: Cell, num: Num, bad: Bad, o: ReadOptions) {
  const schedule = num("scheduler_time", nonNegative, "seconds ≥ 0");
  const execute = schedule === null ? null : num("execute_time", positive, "seconds > 0");
  const update = execute === null ? null : num("update_time", nonNegative, "seconds ≥ 0");
  if (schedule === null || execute === null || update === null) return null;
  const tokens = parseScheduledTokens(cell("num_scheduled_tokens"));
  if (!tokens) return bad("num_scheduled_tokens", "a dict such as {'req-1': 1, 'req-2': 128}");
  return {
    file,
    line,
    x: {
      prefillTokens: tokens.prefillTokens,
      decodeSeqs: tokens.decodeRequests,
      contextTokens: 0,
      requests: tokens.prefillRequests + tokens.decodeRequests,
      tp: o.tp,
    },
    contextKnown: false,
    executeMs: execute * 1000,
    scheduleMs: schedule * 1000,
    updateMs: update * 1000,
  };
}

function profilemateRow(
  file: string,
  line: number,
  cell: Cell,
  num: Num,
  bad: Bad,
  o: ReadOptions,
) {
  const phase = cell("phase");
  if (phase !== "prefill" && phase !== "decode") return bad("phase", "prefill or decode");
  const batch = num("batch_size", count, "a count");
  const tokens = batch === null ? null : num("num_tokens", count, "a count");
  const ms = tokens === null ? null : num("forward_time_ms", positive, "ms > 0");
  if (batch === null || tokens === null || ms === null) return null;
  return {
    file,
    line,
    x: {
      prefillTokens: phase === "prefill" ? tokens : 0,
      decodeSeqs: phase === "decode" ? tokens : 0,
      contextTokens: 0,
      requests: batch,
      tp: o.tp,
    },
    contextKnown: false,
    executeMs: ms,
    scheduleMs: null,
    updateMs: null,
  };
}

function gridRow(
  file: string,
  line: number,
  cell: Cell,
  num: Num,
  bad: Bad,
  layers: number,
  msColumn: string,
) {
  const phase = cell("phase");
  if (phase !== "prefill" && phase !== "decode") return bad("phase", "prefill or decode");
  const tp = num("tp", (v) => Number.isInteger(v) && v >= 1, "an integer ≥ 1");
  const batch = tp === null ? null : num("batch", (v) => count(v) && v > 0, "a count > 0");
  const tokens = batch === null ? null : num("tokens", count, "a count");
  const context = tokens === null ? null : num("context", count, "a count");
  const ms = context === null ? null : num(msColumn, positive, "ms > 0");
  if (tp === null || batch === null || tokens === null || context === null || ms === null)
    return null;
  // The context the engine's BatchShape counts: a prefill attends its own tokens,
  // a decode its cached context plus the new token (sim/engine/scheduler.ts shapeOf).
  const prefill = phase === "prefill";
  return {
    file,
    line,
    x: {
      prefillTokens: prefill ? tokens : 0,
      decodeSeqs: prefill ? 0 : batch,
      contextTokens: prefill ? tokens : batch * (context + 1),
      requests: batch,
      tp,
    },
    contextKnown: true,
    executeMs: ms * layers,
    scheduleMs: null,
    updateMs: null,
  };
}
