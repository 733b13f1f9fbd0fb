/**
 * What `vscale load --prompts X` means: a prompt file, a synthetic set written
 * inline (`synthetic:512`, `synthetic:128-1024`), or, with `--matrix`, the
 * name of a prompt set in that matrix.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "../common/errors.ts";
import { readMatrixFile } from "../config/matrix-file.ts";
import type { PromptSetSpec } from "../config/schema.ts";

export interface CliPromptChoice {
  name: string;
  spec: PromptSetSpec;
  baseDir: string;
}

const SYNTHETIC_RE = /^synthetic:(\d+)(?:-(\d+))?$/;

export async function resolveCliPrompts(
  value: string,
  matrixFile?: string,
): Promise<CliPromptChoice> {
  const synthetic = SYNTHETIC_RE.exec(value);
  if (synthetic) {
    const min = Number(synthetic[1]);
    const max = synthetic[2] === undefined ? min : Number(synthetic[2]);
    if (min < 1 || max < min) {
      throw new ConfigError(
        `expected synthetic:N or synthetic:MIN-MAX with 1 ≤ MIN ≤ MAX, got "${value}"`,
        {
          field: "--prompts",
        },
      );
    }
    const tokens =
      min === max ? { dist: "fixed" as const, mean: min } : { dist: "uniform" as const, min, max };
    return {
      name: `synthetic-${min === max ? min : `${min}-${max}`}`,
      spec: { tokens, count: 256, chars_per_token: 4 },
      baseDir: process.cwd(),
    };
  }
  if (matrixFile !== undefined) {
    const matrix = await readMatrixFile(matrixFile);
    const spec = matrix.matrix.prompts[value];
    if (spec === undefined) {
      throw new ConfigError(`no prompt set "${value}" in the matrix`, {
        file: matrixFile,
        field: "prompts",
        hint: `sets: ${Object.keys(matrix.matrix.prompts).join(", ")}`,
      });
    }
    return { name: value, spec, baseDir: matrix.baseDir };
  }
  const path = resolve(value);
  if (!existsSync(path)) {
    throw new ConfigError(`no prompt file "${value}"`, {
      field: "--prompts",
      hint: "give a file (one prompt a line, or .jsonl), synthetic:N, or a set name with --matrix",
    });
  }
  const name = (path.split("/").pop() ?? "prompts").replace(/\.[^.]*$/, "");
  return { name, spec: { file: path }, baseDir: dirname(path) };
}
