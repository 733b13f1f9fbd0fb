/**
 * Prepares a prompt set from the matrix (`prompts.<name>`): reads a prompt
 * file relative to the matrix file, or generates synthetic prompts, calibrated
 * to exact token counts when the server offers `/tokenize`.
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { extname, isAbsolute, resolve } from "node:path";
import { DataError, type ErrorLocation, ServerError } from "../../common/errors.ts";
import type { PromptSetSpec } from "../../config/schema.ts";
import {
  buildSyntheticPromptSet,
  type PreparedPromptSet,
  parsePromptText,
} from "../workload/prompts.ts";
import { countReplyTokens, parseShareGptText } from "./dataset-files.ts";
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

/**
 * Prompt files larger than this are refused before reading: the whole set is
 * held in memory, and a dataset dump of gigabytes is a mistake, not a workload.
 */
export const MAX_PROMPT_FILE_BYTES = 256 * 1024 * 1024;

const fault = (name: string, file: string, message: string, at: ErrorLocation = {}) =>
  new DataError(message, { file, field: `prompts.${name}.file`, ...at });

/** The bytes of a regular file. Opened non-blocking: a FIFO must be refused, not waited on. */
async function readRegularFile(name: string, path: string, shown: string): Promise<Buffer> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (info.isDirectory()) throw fault(name, shown, "is a directory, not a prompt file");
    if (!info.isFile()) {
      const what = info.isFIFO() ? "a FIFO (named pipe)" : "not a regular file";
      throw fault(name, shown, `is ${what}; prompts are read from a regular file`);
    }
    if (info.size > MAX_PROMPT_FILE_BYTES) {
      const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;
      throw fault(
        name,
        shown,
        `is ${mib(info.size)}, more than the limit of ${mib(MAX_PROMPT_FILE_BYTES)}`,
      );
    }
    return await handle.readFile();
  } catch (error) {
    if (error instanceof DataError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "read error";
    const why = code === "ENOENT" ? "not found" : code === "EISDIR" ? "is a directory" : code;
    throw fault(name, shown, `cannot read prompt file (${why})`, {
      hint: "paths are relative to the matrix file",
    });
  } finally {
    await handle?.close();
  }
}

/** Text of a prompt file, refusing what is not text: NUL bytes or invalid UTF-8. */
function decodeText(name: string, shown: string, bytes: Buffer): string {
  if (bytes.length === 0)
    throw fault(name, shown, "is empty (0 bytes); expected one prompt a line");
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const before = bytes.subarray(0, nul);
    const line = before.filter((b) => b === 0x0a).length + 1;
    const column = nul - before.lastIndexOf(0x0a);
    throw fault(name, shown, "is binary (a NUL byte), not text", { line, column });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fault(name, shown, "is not UTF-8 text");
  }
}

/**
 * Read and check one prompt file (`.jsonl` → JSON lines, anything else → one
 * prompt a line). The one reader: `vscale plan` runs it before any server
 * starts, and the runner and `vscale load` run it again to get the prompts.
 * `shown` is the path as the user wrote it, for messages.
 */
export async function readPromptFile(
  name: string,
  path: string,
  shown: string = path,
): Promise<PreparedPromptSet> {
  const text = decodeText(name, shown, await readRegularFile(name, path, shown));
  const ext = extname(path).toLowerCase();
  const format = ext === ".jsonl" ? "jsonl" : "lines";
  if (text.trim() === "") {
    throw fault(name, shown, "has only blank lines; expected at least one prompt", { line: 1 });
  }
  if (ext === ".json") {
    // Output lengths are estimated until the runner counts them with the server's tokenizer.
    const prompts = parseShareGptText(name, text, shown);
    return { name, source: "file", prompts, tokensEstimated: true };
  }
  const parsed = parsePromptText(text, format);
  if (!parsed.ok) {
    throw new DataError(parsed.message, {
      file: shown,
      line: parsed.line,
      field: parsed.field || `prompts.${name}.file`,
    });
  }
  return { name, source: "file", prompts: parsed.prompts, tokensEstimated: false };
}

/** Where a file prompt set lives: relative to the matrix's directory unless absolute. */
export function promptFilePath(file: string, baseDir: string): string {
  return isAbsolute(file) ? file : resolve(baseDir, file);
}

export async function preparePromptSet(
  name: string,
  spec: PromptSetSpec,
  opts: PreparePromptOptions,
): Promise<PreparedPromptSet> {
  const probe = () =>
    opts.tokenizeUrl ? probeTokenizer(opts.tokenizeUrl, opts.model, opts.apiKey) : null;
  if ("file" in spec) {
    const set = await readPromptFile(name, promptFilePath(spec.file, opts.baseDir));
    if (!set.prompts.some((p) => p.conversation)) return set;
    const counter = await probe();
    if (!counter) return set;
    return { ...(await countReplyTokens(set, counter)), tokensEstimated: false };
  }
  const countTokens = await probe();
  try {
    return await buildSyntheticPromptSet({
      name,
      tokens: spec.tokens,
      ...(spec.output_tokens ? { outputTokens: spec.output_tokens } : {}),
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
