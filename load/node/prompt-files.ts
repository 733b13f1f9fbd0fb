/**
 * Prepares a prompt set from the matrix (`prompts.<name>`): reads a prompt
 * file relative to the matrix file, or generates synthetic prompts, calibrated
 * to exact token counts when the server offers `/tokenize`.
 */
import { readFile } from "node:fs/promises";
import { extname, isAbsolute, resolve } from "node:path";
import { DataError, ServerError } from "../../common/errors.ts";
import type { PromptSetSpec } from "../../config/schema.ts";
import {
  buildSyntheticPromptSet,
  type PreparedPromptSet,
  parsePromptText,
} from "../workload/prompts.ts";
import { probeTokenizer } from "./tokenize.ts";

export type { PreparedPromptSet, Prompt } from "../workload/prompts.ts";

export interface PreparePromptOptions {
  /** Directory of the matrix file; `spec.file` is relative to it. */
  baseDir: string;
  seed: number;
  /** Server base URL; when it answers POST /tokenize, synthetic prompts are calibrated. */
  tokenizeUrl?: string;
  model: string;
  apiKey?: string;
}

/** Read and parse one prompt file (`.jsonl` → JSON lines, anything else → one prompt a line). */
export async function readPromptFile(name: string, path: string): Promise<PreparedPromptSet> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "read error";
    throw new DataError(`cannot read prompt file (${code})`, {
      file: path,
      field: `prompts.${name}.file`,
      hint: "paths are relative to the matrix file",
    });
  }
  const format = extname(path).toLowerCase() === ".jsonl" ? "jsonl" : "lines";
  const parsed = parsePromptText(text, format);
  if (!parsed.ok) {
    throw new DataError(parsed.message, {
      file: path,
      line: parsed.line,
      field: parsed.field || undefined,
    });
  }
  return { name, source: "file", prompts: parsed.prompts, tokensEstimated: false };
}

export async function preparePromptSet(
  name: string,
  spec: PromptSetSpec,
  opts: PreparePromptOptions,
): Promise<PreparedPromptSet> {
  if ("file" in spec) {
    const path = isAbsolute(spec.file) ? spec.file : resolve(opts.baseDir, spec.file);
    return readPromptFile(name, path);
  }
  const countTokens = opts.tokenizeUrl
    ? await probeTokenizer(opts.tokenizeUrl, opts.model, opts.apiKey)
    : null;
  try {
    return await buildSyntheticPromptSet({
      name,
      tokens: spec.tokens,
      count: spec.count,
      charsPerToken: spec.chars_per_token,
      seed: opts.seed,
      ...(countTokens ? { countTokens } : {}),
    });
  } catch (error) {
    // /tokenize answered the probe, then failed mid-calibration.
    throw new ServerError(`calibrating prompt set "${name}" against /tokenize failed`, {
      field: `prompts.${name}`,
      hint: error instanceof Error ? error.message : String(error),
    });
  }
}
