/**
 * Reading an experiment matrix: YAML (with line:column positions kept) →
 * zod validation → one ConfigError naming file, position, field and what was
 * expected. Semantic checks that need the whole matrix live in `expand.ts`.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { isMap, isScalar, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../common/errors.ts";
import { mergeUnder } from "./presets.ts";
import { fieldName, type PathKey, type Problem } from "./problem.ts";
import { type Matrix, MatrixSchema } from "./schema.ts";
import { inlineSecretKey } from "./secrets.ts";
import { didYouMean } from "./suggest.ts";

/**
 * Limits on what a matrix file may make us do. A matrix is a page of YAML; a
 * 50 MB one once took 4.3 GB before failing, and a few nested aliases (a
 * "billion laughs") expand to millions of nodes.
 */
export const MAX_MATRIX_BYTES = 1024 * 1024;
/** Alias uses allowed while building the plain object (the yaml library's own measure). */
export const MAX_YAML_ALIASES = 100;

/** A parsed matrix plus what is needed to point back into the file. */
export interface MatrixFile {
  path: string;
  baseDir: string;
  matrix: Matrix;
  /** The plain parsed YAML (before defaults), e.g. to know key order and what was written. */
  raw: Record<string, unknown>;
  /** Position of the node at `path`, for errors found after validation. */
  locate(path: readonly PathKey[], keyOf?: string): { line?: number; column?: number };
}

/** Where a value sits in the file: the node at `path`, or its nearest ancestor. */
function makeLocator(doc: ReturnType<typeof parseDocument>, lines: LineCounter) {
  return (path: readonly PathKey[], keyOf?: string): { line?: number; column?: number } => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as Node | undefined;
      if (!node) continue;
      let range = node.range;
      if (keyOf !== undefined && depth === path.length && isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === keyOf);
        if (pair && isScalar(pair.key) && pair.key.range) range = pair.key.range;
      }
      if (range) {
        const pos = lines.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return {};
  };
}

// --- walking the zod schema, to list the keys allowed at a path ("did you mean")

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

function def(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const d = def(current);
    if (d.innerType) current = d.innerType;
    else if (d.type === "pipe" && d.in) current = d.in;
    else return current;
  }
}

/** The schemas that may describe the value at `path` (several under unions). */
function schemasAt(schema: z.ZodType, path: readonly PathKey[]): z.ZodType[] {
  let current = [unwrap(schema)];
  for (const key of path) {
    const next: z.ZodType[] = [];
    for (const s of current.flatMap(expandUnion)) {
      const d = def(s);
      if (d.type === "object" && typeof key === "string" && d.shape?.[key]) next.push(d.shape[key]);
      else if (d.type === "record" && d.valueType) next.push(d.valueType);
      else if (d.type === "array" && typeof key === "number" && d.element) next.push(d.element);
    }
    current = next.map(unwrap);
  }
  return current.flatMap(expandUnion);
}

function expandUnion(schema: z.ZodType): z.ZodType[] {
  const d = def(schema);
  return d.type === "union" && d.options ? d.options.map(unwrap).flatMap(expandUnion) : [schema];
}

function allowedKeysAt(path: readonly PathKey[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(MatrixSchema, path)) {
    const d = def(s);
    if (d.type === "object" && d.shape) for (const k of Object.keys(d.shape)) keys.add(k);
  }
  return [...keys];
}

function valueAt(raw: unknown, path: readonly PathKey[]): unknown {
  let current = raw;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PathKey, unknown>)[key];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** A problem found after validation, as a ConfigError pointing into the file. */
export function errorAt(file: Pick<MatrixFile, "path" | "locate">, problem: Problem): ConfigError {
  const path = problem.key === undefined ? problem.path : [...problem.path, problem.key];
  return new ConfigError(problem.message, {
    file: file.path,
    ...file.locate(problem.path, problem.key),
    field: fieldName(path),
    hint: problem.hint,
  });
}

/**
 * The issue that says what is wrong. A union such as "a value or a list of
 * values" reports only "Invalid input" for `[4, eight, 16]`; the list option's
 * own issue names the element (`[1]`) and keeps the schema's words.
 */
function innermost(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  let current = issue;
  while (current.code === "invalid_union" && current.errors.length > 0) {
    // The option whose issues all sit below the value matched its shape: it came closest.
    const deep = current.errors.filter(
      (options) => options.length > 0 && options.every((i) => i.path.length > 0),
    );
    const chosen = deep.length > 0 ? deep.sort((a, b) => a.length - b.length)[0] : undefined;
    const inner = chosen?.[0];
    if (inner) {
      current = { ...inner, path: [...current.path, ...inner.path] } as z.core.$ZodIssue;
      continue;
    }
    // No option matched the shape: keep the union's own message if the schema gave one.
    const first = current.errors[0]?.[0];
    if (current.message !== "Invalid input" || !first) return current;
    return { ...first, path: [...current.path, ...first.path] } as z.core.$ZodIssue;
  }
  return current;
}

/** Turn the first zod issue into one ConfigError pointing into the file. */
function issueToError(
  reported: z.core.$ZodIssue,
  raw: unknown,
  file: string,
  locate: ReturnType<typeof makeLocator>,
  more: number,
): ConfigError {
  const suffix = more > 0 ? ` (and ${more} more problem${more > 1 ? "s" : ""})` : "";
  const outer = valueAt(
    raw,
    reported.path.filter((k): k is PathKey => typeof k !== "symbol"),
  );
  const isMapping = outer !== null && typeof outer === "object" && !Array.isArray(outer);
  // A union of mappings (a prompt set) is explained by its keys below, not by one option.
  const issue = isMapping ? reported : innermost(reported);
  const path = issue.path.filter((k): k is PathKey => typeof k !== "symbol");
  const value = valueAt(raw, path);

  if (issue.code === "invalid_key") {
    // A record key the key schema refused (a prompt set name): zod's own words are only
    // "Invalid key in record"; the key schema's issue says what a name may hold.
    const key = String(path[path.length - 1]);
    const why = issue.issues[0]?.message ?? "invalid name";
    return new ConfigError(`${why}, got "${key}"${suffix}`, {
      file,
      ...locate(path.slice(0, -1), key),
      field: fieldName(path),
    });
  }
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] as string;
    const allowed = allowedKeysAt(path);
    return new ConfigError(`unknown key "${key}"${suffix}`, {
      file,
      ...locate(path, key),
      field: fieldName([...path, key]),
      hint: didYouMean(key, allowed) ?? `expected one of: ${allowed.join(", ")}`,
    });
  }
  if (
    issue.code === "invalid_union" &&
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value)
  ) {
    // A union of mappings (e.g. a prompt set): an unknown key is the likeliest cause.
    const allowed = allowedKeysAt(path);
    const unknown = Object.keys(value).find((k) => !allowed.includes(k));
    if (unknown !== undefined && allowed.length > 0) {
      return new ConfigError(`unknown key "${unknown}"${suffix}`, {
        file,
        ...locate(path, unknown),
        field: fieldName([...path, unknown]),
        hint: didYouMean(unknown, allowed) ?? `expected one of: ${allowed.join(", ")}`,
      });
    }
  }
  const missing = value === undefined;
  const message = missing
    ? `required field is missing: ${issue.message}`
    : issue.message.includes(", got ")
      ? issue.message
      : `${issue.message}, got ${describe(value)}`;
  return new ConfigError(`${message}${suffix}`, {
    file,
    ...locate(path),
    field: fieldName(path) || "(top level)",
  });
}

/**
 * Parse and validate YAML text; `file` is used in messages only. `preset`
 * (config/presets.ts) is merged under the file's contents before validation.
 */
export function parseMatrix(
  text: string,
  file: string,
  preset?: Record<string, unknown>,
): MatrixFile {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_MATRIX_BYTES) throw tooLarge(file, bytes);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const locate = makeLocator(doc, lines);
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lines.linePos(yamlError.pos[0]);
    const firstLine = yamlError.message.split("\n")[0] ?? yamlError.message;
    // The yaml library's words for a second document name its own API; say what a matrix is.
    const what =
      yamlError.code === "MULTIPLE_DOCS"
        ? "a second YAML document (`---`): a matrix is one document; put each campaign in its own file"
        : `not valid YAML: ${firstLine.replace(/ at line \d+, column \d+:?$/, "")}`;
    throw new ConfigError(what, {
      file,
      line: pos?.line,
      column: pos?.col,
    });
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    // The yaml library refuses alias expansion beyond the count with a ReferenceError.
    if (!(error instanceof ReferenceError)) throw error;
    let first: { line?: number; column?: number } = {};
    visit(doc, {
      Alias(_key, node) {
        const pos = node.range ? lines.linePos(node.range[0]) : undefined;
        first = { line: pos?.line, column: pos?.col };
        return visit.BREAK;
      },
    });
    throw new ConfigError(
      `YAML aliases expand beyond the limit of ${MAX_YAML_ALIASES} alias uses`,
      { file, ...first, hint: "an alias bomb? write the values out instead of nesting aliases" },
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("expected a mapping with campaign, server, load, prompts and factors", {
      file,
      line: 1,
      column: 1,
    });
  }
  const rawObject = (preset ? mergeUnder(preset, raw) : raw) as Record<string, unknown>;
  raw = rawObject;
  const secret = inlineSecretKey(rawObject);
  if (secret) throw errorAt({ path: file, locate }, secret);
  const parsed = MatrixSchema.safeParse(raw);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    throw issueToError(first as z.core.$ZodIssue, raw, file, locate, rest.length);
  }
  return {
    path: file,
    baseDir: dirname(resolve(file)),
    matrix: parsed.data,
    raw: rawObject,
    locate,
  };
}

function tooLarge(file: string, bytes: number): ConfigError {
  return new ConfigError(
    `matrix file is ${(bytes / 1024 / 1024).toFixed(1)} MiB, more than the limit of ${MAX_MATRIX_BYTES / 1024 / 1024} MiB`,
    { file, hint: "a matrix lists factors, not data: keep prompts in prompt files" },
  );
}

export async function readMatrixFile(
  file: string,
  preset?: Record<string, unknown>,
): Promise<MatrixFile> {
  let text: string;
  try {
    // Look before reading: a FIFO would block, a directory or a huge file would not be a matrix.
    const info = await stat(file);
    if (!info.isFile()) {
      throw new ConfigError(
        `matrix file is ${info.isDirectory() ? "a directory" : "not a regular file"}`,
        {
          file,
          hint: "give the path of a .yaml file",
        },
      );
    }
    if (info.size > MAX_MATRIX_BYTES) throw tooLarge(file, info.size);
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === "ENOENT"
        ? "matrix file not found"
        : `cannot read matrix file (${code ?? String(error)})`,
      {
        file,
        hint: code === "ENOENT" ? "the shipped one is config/experiment_matrix.yaml" : undefined,
      },
    );
  }
  return parseMatrix(text, file, preset);
}
