/**
 * Request records through DuckDB: each experiment's `requests.ndjson` is
 * read once by DuckDB's own NDJSON reader with explicit column types
 * (generated from `formats/agg-tables.ts` REQUESTS_TABLE and
 * `formats/request-record.ts`) and copied straight to a staging Parquet file
 * (zstd) in the engine's scratch folder. The window figures read back only
 * their columns from it (`request-figures.ts`, columnar and cheap), and
 * `requests.parquet` is the staged files' compressed pages joined as they are
 * (`RequestsParquet`, `parquet-merge.ts`): every record is compressed
 * once. A table in between cost a second full write and, past the memory
 * limit, a spill (measured in bench/aggregate.ts: 2.0–2.5× the bare DuckDB conversion).
 *
 * DuckDB's reader is lax where the record schema is strict (it rounds 1.5
 * into an integer column and has no line numbers for rejects on JSON), so the
 * schema's rules (`RULES`, probed from the zod schema itself) are checked in
 * the same statement: a row breaking one raises, like a read error. A file is
 * taken as DuckDB read it only when that statement raised nothing. Otherwise
 * the file takes the zod path: `readNdjson` reports each bad line as
 * `file:line: reason`, the good ones go to a cleaned temporary NDJSON file,
 * and DuckDB reads that instead. Clean files, the normal case, never meet
 * JavaScript line by line.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import { AGG_SCHEMA_VERSION, REQUESTS_TABLE } from "../../formats/agg-tables.ts";
import { RECORD_INVARIANTS, RequestRecordSchema } from "../../formats/request-record.ts";
import type { Window } from "../../stats/request-window.ts";
import {
  type CopyOptions,
  duckType,
  type Engine,
  type Session,
  sqlName,
  sqlNumber,
  sqlString,
} from "./duck.ts";
import { readNdjson, type Warn } from "./ndjson-lines.ts";
import { writeNdjson } from "./ndjson-write.ts";
import { ParquetJoin } from "./parquet-merge.ts";

const SHAPE = RequestRecordSchema.shape as Record<string, z.ZodType>;
const FIELDS = Object.keys(SHAPE);
const TABLE_TYPE = new Map(REQUESTS_TABLE.columns.map((c) => [c.name, duckType(c.type)]));
/** Every gap (pooled ITL) is no column of requests.parquet, but the figures need it. */
const LIST_TYPE: Record<string, string> = { itl_gaps_ms: "DOUBLE[]" };

function isInteger(field: z.ZodType): boolean {
  return field.safeParse(1).success && !field.safeParse(0.5).success;
}

/** The SQL type a record field is stored as. */
function storedType(name: string): string {
  const type = LIST_TYPE[name] ?? TABLE_TYPE.get(name);
  if (!type) throw new Error(`request record field ${name} has no requests-table column`);
  return type;
}

function isBoolean(name: string): boolean {
  return storedType(name) === "BOOLEAN";
}

/**
 * How DuckDB reads a field: integers as DOUBLE, so that a fraction is seen
 * (and rejected by RULES) rather than rounded; booleans as JSON, so that
 * `"yes"` is seen rather than read as true.
 */
function readType(name: string): string {
  if (isBoolean(name)) return "JSON";
  return isInteger(SHAPE[name]!) ? "DOUBLE" : storedType(name);
}

function enumOptions(field: z.ZodType): readonly string[] | null {
  const inner = (field as unknown as { unwrap?: () => z.ZodType }).unwrap?.() ?? field;
  const options = (inner as unknown as { options?: unknown }).options;
  return Array.isArray(options) && options.every((o) => typeof o === "string") ? options : null;
}

/**
 * The schema's rules as SQL, one per field, found by asking the zod schema
 * (so a changed schema changes these): required, ≥ 0, integer, one of.
 */
function fieldRules(name: string): string[] {
  const field = SHAPE[name]!;
  const col = sqlName(name);
  const rules: string[] = [];
  if (!field.safeParse(null).success) rules.push(`${col} IS NOT NULL`);
  if (isBoolean(name)) {
    // The value's JSON text: `"true"` (a string) is not `true`. Cheaper than json_type().
    rules.push(`coalesce(${col}::VARCHAR IN ('true', 'false'), true)`);
    return rules;
  }
  if (LIST_TYPE[name]) {
    if (!field.safeParse([-1]).success) rules.push(`coalesce(list_min(${col}), 0) >= 0`);
    return rules;
  }
  if (field.safeParse(1).success && !field.safeParse(-1).success) {
    rules.push(`coalesce(${col} >= 0, true)`);
  }
  if (isInteger(field)) rules.push(`coalesce(${col} = trunc(${col}), true)`);
  const options = enumOptions(field);
  if (options) rules.push(`coalesce(${col} IN (${options.map(sqlString).join(", ")}), true)`);
  return rules;
}

const RULES = [
  ...FIELDS.flatMap(fieldRules),
  ...RECORD_INVARIANTS.map((rule) => `coalesce(${rule.sql}, true)`),
].join(" AND ");
const JSON_COLUMNS = `{${FIELDS.map((f) => `${sqlString(f)}: ${sqlString(readType(f))}`).join(", ")}}`;

export interface ExperimentRequests {
  /** Position of the experiment in the output (names its staged file). */
  expNo: number;
  campaign: string;
  gpus: number | null;
  window: Window | null;
}

/** An experiment's records, staged as Parquet: requests.parquet's columns plus every gap. */
export interface StagedRequests {
  path: string;
  records: number;
}

/** The window rule of stats/request-window.ts `inWindow()`, for the `in_window` column. */
function inWindowSql(window: Window | null): string {
  return window === null
    ? "NOT warmup"
    : `end_us >= ${sqlNumber(window.startUs)} AND end_us < ${sqlNumber(window.endUs)}`;
}

/** `COPY` of `file` as read, stopped by `error()` at the first row breaking a rule. */
function stageSql(file: string, exp: ExperimentRequests, out: string): string {
  const value: Record<string, string> = {
    schema_version: String(AGG_SCHEMA_VERSION),
    campaign: sqlString(exp.campaign),
    gpus: sqlNumber(exp.gpus),
    in_window: inWindowSql(exp.window),
  };
  const select = [
    ...REQUESTS_TABLE.columns.map(
      (c) => `(${value[c.name] ?? sqlName(c.name)})::${duckType(c.type)} AS ${sqlName(c.name)}`,
    ),
    "itl_gaps_ms",
  ];
  // zstd: these bytes become requests.parquet's as they are (RequestsParquet). Level 1
  // (DuckDB's default is 3): 0.3–0.5 CPU-s less per 1M records, the file ~5 % larger.
  return `COPY (SELECT ${select.join(", ")}
    FROM read_json(${sqlString(file)}, format = 'newline_delimited', columns = ${JSON_COLUMNS})
    WHERE CASE WHEN ${RULES} THEN true ELSE error('record breaks the schema') END)
    TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`;
}

/** The good lines of `file`, checked by zod with a warning per bad line, as a new NDJSON file. */
async function cleanedCopy(file: string, out: string, warn: Warn): Promise<string> {
  async function* rows() {
    for await (const { row } of readNdjson(file, RequestRecordSchema, warn)) yield row;
  }
  await writeNdjson(out, rows());
  return out;
}

/**
 * Stages the experiment's valid records on `session` (run it single-threaded:
 * see Engine.inOrder) in the engine's scratch folder; returns the file and
 * how many records it holds.
 */
export async function stageRequests(
  engine: Engine,
  session: Session,
  file: string,
  exp: ExperimentRequests,
  warn: Warn,
  /** Which record file of the experiment (a run in segments has one per segment). */
  part = 0,
): Promise<StagedRequests> {
  const path = join(engine.scratchDir, `requests-${exp.expNo}-${part}.parquet`);
  try {
    // One statement: a read error or a broken rule leaves no rows behind.
    await session.run(stageSql(file, exp, path));
  } catch {
    // Not JSON somewhere, a truncated last line, a string where a number belongs, a broken rule.
    const cleaned = join(engine.scratchDir, `requests-${exp.expNo}-${part}.ndjson`);
    try {
      await session.run(stageSql(await cleanedCopy(file, cleaned, warn), exp, path));
    } finally {
      await rm(cleaned, { force: true }); // as large as the input: not kept until the engine closes
    }
  }
  // From the footer: no scan.
  const [row] = await session.rows(`SELECT count(*) AS n FROM read_parquet(${sqlString(path)})`);
  return { path, records: Number(row?.n ?? 0) };
}

/**
 * `requests.parquet`, built as the experiments' staged files come (discovery
 * order, lines in file order): each file's compressed pages are copied as
 * they are (`parquet-merge.ts`), without the gaps, while DuckDB stages the
 * next experiments; the staged file is then removed (at 10M records they
 * would otherwise hold a second copy of the campaign on disk until the end).
 */
export class RequestsParquet {
  private constructor(
    private readonly engine: Engine,
    private readonly join: ParquetJoin,
    readonly path: string,
    private readonly options: CopyOptions,
  ) {}

  static async create(
    engine: Engine,
    path: string,
    options: CopyOptions,
  ): Promise<RequestsParquet> {
    const join = await ParquetJoin.create(path, {
      drop: Object.keys(LIST_TYPE),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    });
    return new RequestsParquet(engine, join, path, options);
  }

  /** Appends a staged file's records and removes the file. */
  async add(staged: StagedRequests): Promise<void> {
    await this.join.add(staged.path);
    await rm(staged.path, { force: true });
  }

  /** Completes the file; with no records, an empty file with requests.parquet's columns. */
  async finish(): Promise<void> {
    if (!this.join.empty) return this.join.finish();
    await this.join.abandon();
    const empty = REQUESTS_TABLE.columns.map(
      (c) => `NULL::${duckType(c.type)} AS ${sqlName(c.name)}`,
    );
    await this.engine.copyToParquet(`SELECT ${empty.join(", ")} LIMIT 0`, this.path, this.options);
  }

  /** Closes the file unfinished after a failure (the caller removes it). */
  async abandon(): Promise<void> {
    await this.join.abandon();
  }
}
