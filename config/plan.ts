import { dirname, isAbsolute, join, resolve } from "node:path";
import { DataError } from "../common/errors.ts";
import { checkEnvironment } from "./environment.ts";
import { expandMatrix, type Plan } from "./expand.ts";
import { errorAt, type MatrixFile, readMatrixFile } from "./matrix-file.ts";
import type { Fail } from "./problem.ts";

export const DEFAULT_MATRIX = "config/experiment_matrix.yaml";

/** Reads and checks one prompt file (load/node/prompt-files.ts's reader). */
export type PromptFileReader = (name: string, path: string, shown: string) => Promise<unknown>;

export interface PlanChecks {
  /** Check `${NAME}` references and `load.api_key_env` against this environment. */
  env?: NodeJS.ProcessEnv;
  /**
   * Read every prompt file the experiments use. Injected because the reader
   * belongs to the load stage, above config; `vscale plan`, `campaign` and
   * `run` pass it (cli/plan.ts's `loadCheckedPlan`), so that a bad file is
   * refused before any server starts.
   */
  readPromptFile?: PromptFileReader;
  /** A named preset's partial matrix (config/presets.ts), merged under the file. */
  preset?: Record<string, unknown>;
}

async function checkPromptFiles(file: MatrixFile, plan: Plan, read: PromptFileReader) {
  const used = new Set(plan.experiments.map((e) => e.promptSet.name));
  for (const [name, spec] of Object.entries(file.matrix.prompts)) {
    if (!used.has(name) || !("file" in spec)) continue;
    // The path as the user would type it from here: beside the matrix.
    const shown = isAbsolute(spec.file) ? spec.file : join(dirname(file.path), spec.file);
    try {
      await read(name, resolve(file.baseDir, spec.file), shown);
    } catch (error) {
      // A fault of the whole file (a directory, a FIFO, empty, binary) points at the
      // matrix line naming it; a bad line inside points at that line of the prompt file.
      if (!(error instanceof DataError) || error.location.line !== undefined) throw error;
      throw errorAt(file, {
        message: `prompt file ${shown} ${error.message}`,
        path: ["prompts", name, "file"],
        hint: error.location.hint,
      });
    }
  }
}

/**
 * Read, validate and expand a matrix file: what `vscale plan` shows and
 * `vscale campaign` runs; with `checks`, also what it needs to run.
 */
export async function loadPlan(
  file: string = DEFAULT_MATRIX,
  checks: PlanChecks = {},
): Promise<Plan> {
  const matrixFile = await readMatrixFile(file, checks.preset);
  const plan = expandMatrix(matrixFile);
  const fail: Fail = (problem) => {
    throw errorAt(matrixFile, problem);
  };
  if (checks.env) checkEnvironment(plan.matrix, checks.env, fail);
  if (checks.readPromptFile) await checkPromptFiles(matrixFile, plan, checks.readPromptFile);
  return plan;
}
