/**
 * Request records into DuckDB: each experiment's `requests.ndjson` is read by
 * DuckDB's own NDJSON reader with explicit column types (generated from
 * `formats/agg-tables.ts` REQUESTS_TABLE and `formats/request-record.ts`) and
 * appended to one table, from which `requests.parquet` is copied and the
 * window figures are computed (`request-figures.ts`).
 *
 * DuckDB's reader is lax where the record schema is strict (it rounds 1.5
 * into an integer column and has no line numbers for rejects on JSON), so a
 * file is taken as DuckDB read it only when the read raised nothing and every
 * row passes the schema's rules as SQL (`RULES`, probed from the zod schema
 * itself). Otherwise the file takes the zod path: `readNdjson` reports each
 * bad line as `file:line: reason`, the good ones go to a cleaned temporary
 * NDJSON file, and DuckDB reads that instead. Clean files, the normal case,
 * never meet JavaScript line by line.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { z } from "zod";
import { AGG_SCHEMA_VERSION, REQUESTS_TABLE } from "../../formats/agg-tables.ts";
import { RequestRecordSchema } from "../../formats/request-record.ts";
import type { Window } from "../../stats/request-window.ts";
import { duckType, type Engine, sqlName, sqlNumber, sqlString } from "./duck.ts";
import { readNdjson, type Warn } from "./ndjson-lines.ts";
import { writeNdjson } from "./ndjson-write.ts";

export const REQUEST_TABLE = "req";

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
    rules.push(`coalesce(json_type(${col}) = 'BOOLEAN', true)`);
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

const RULES = FIELDS.flatMap(fieldRules).join(" AND ");
const JSON_COLUMNS = `{${FIELDS.map((f) => `${sqlString(f)}: ${sqlString(readType(f))}`).join(", ")}}`;

export interface ExperimentRequests {
  /** Position of the experiment in the output (rows keep it). */
  expNo: number;
  campaign: string;
  gpus: number | null;
  window: Window | null;
}

/** Columns of the table: requests.parquet's, the gaps, and the experiment's position. */
export async function createRequestTable(engine: Engine): Promise<void> {
  const columns = [
    "exp_no INTEGER",
    ...REQUESTS_TABLE.columns.map((c) => `${sqlName(c.name)} ${duckType(c.type)}`),
    `itl_gaps_ms ${LIST_TYPE.itl_gaps_ms}`,
    "broken BOOLEAN",
  ];
  await engine.run(`CREATE TABLE ${REQUEST_TABLE} (${columns.join(", ")})`);
}

/** The window rule of stats/request-window.ts `inWindow()`, for the `in_window` column. */
function inWindowSql(window: Window | null): string {
  return window === null
    ? "NOT warmup"
    : `end_us >= ${sqlNumber(window.startUs)} AND end_us < ${sqlNumber(window.endUs)}`;
}

function insertSql(file: string, exp: ExperimentRequests): string {
  const value: Record<string, string> = {
    schema_version: String(AGG_SCHEMA_VERSION),
    campaign: sqlString(exp.campaign),
    gpus: sqlNumber(exp.gpus),
    in_window: inWindowSql(exp.window),
  };
  const select = [
    String(exp.expNo),
    ...REQUESTS_TABLE.columns.map(
      (c) => value[c.name] ?? `${sqlName(c.name)}::${duckType(c.type)}`,
    ),
    "itl_gaps_ms",
    `NOT (${RULES})`,
  ];
  return `INSERT INTO ${REQUEST_TABLE} SELECT ${select.join(", ")}
    FROM read_json(${sqlString(file)}, format = 'newline_delimited',
      columns = ${JSON_COLUMNS})`;
}

/** Inserts `file` as DuckDB reads it; false (and nothing inserted) when it raised or a row broke a rule. */
async function insertAsRead(
  engine: Engine,
  file: string,
  exp: ExperimentRequests,
): Promise<boolean> {
  try {
    // One statement: a read error rolls the whole insert back.
    await engine.run(insertSql(file, exp));
  } catch {
    // Not JSON somewhere, a truncated last line, a string where a number belongs.
    return false;
  }
  const where = `exp_no = ${exp.expNo}`;
  const [row] = await engine.rows(
    `SELECT count(*) FILTER (WHERE broken) AS broken FROM ${REQUEST_TABLE} WHERE ${where}`,
  );
  if (Number(row?.broken ?? 0) === 0) return true;
  await engine.run(`DELETE FROM ${REQUEST_TABLE} WHERE ${where}`);
  return false;
}

/** The good lines of `file`, checked by zod with a warning per bad line, as a new NDJSON file. */
async function cleanedCopy(file: string, dir: string, warn: Warn): Promise<string> {
  const out = join(dir, "requests.ndjson");
  async function* rows() {
    for await (const { row } of readNdjson(file, RequestRecordSchema, warn)) yield row;
  }
  await writeNdjson(out, rows());
  return out;
}

/** Appends the experiment's valid records; returns how many. */
export async function insertRequests(
  engine: Engine,
  file: string,
  exp: ExperimentRequests,
  warn: Warn,
): Promise<number> {
  if (!(await insertAsRead(engine, file, exp))) {
    const scratch = await mkdtemp(join(tmpdir(), "vscale-requests-"));
    try {
      await engine.run(insertSql(await cleanedCopy(file, scratch, warn), exp));
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  const [row] = await engine.rows(
    `SELECT count(*) AS n FROM ${REQUEST_TABLE} WHERE exp_no = ${exp.expNo}`,
  );
  return Number(row?.n ?? 0);
}
