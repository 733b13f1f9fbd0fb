import { expandMatrix, type Plan } from "./expand.ts";
import { readMatrixFile } from "./matrix-file.ts";

export const DEFAULT_MATRIX = "config/experiment_matrix.yaml";

/** Read, validate and expand a matrix file: what `vscale plan` shows and `vscale campaign` runs. */
export async function loadPlan(file: string = DEFAULT_MATRIX): Promise<Plan> {
  return expandMatrix(await readMatrixFile(file));
}
