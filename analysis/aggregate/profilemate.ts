/**
 * Seed 003's profilemate session folders (`session_<timestamp>/`): each known
 * CSV kind becomes rows typed by PROFILEMATE_KINDS; an empty cell is null (it
 * means "did not happen", e.g. never preempted); a cell that does not fit its
 * type is reported and left null.
 */

import type { ColumnType } from "../../formats/agg-tables.ts";
import { PROFILEMATE_KINDS } from "../../formats/profile-tables.ts";
import type { Row, Session } from "./duck.ts";
import type { Warn } from "./ndjson-lines.ts";
import { readCsv } from "./read-csv.ts";

export const SESSION_DIR_PATTERN = /^session_/;

function typed(text: string, type: ColumnType): number | boolean | string | null | undefined {
  const t = text.trim();
  if (t === "") return null;
  switch (type) {
    case "float64": {
      const v = Number(t);
      return Number.isNaN(v) && t.toLowerCase() !== "nan" ? undefined : v;
    }
    case "int64":
    case "int32": {
      const v = Number(t);
      return Number.isInteger(v) ? v : undefined;
    }
    case "bool":
      if (/^(true|1)$/i.test(t)) return true;
      if (/^(false|0)$/i.test(t)) return false;
      return undefined;
    default:
      return t;
  }
}

export async function readProfilemateCsv(
  session: Session,
  kind: string,
  file: string,
  warn: Warn,
): Promise<Row[]> {
  const types = PROFILEMATE_KINDS[kind];
  if (!types) return [];
  const { names, records } = await readCsv(session, file, warn, { exactFields: true });
  const rows: Row[] = [];
  for (const { line, fields } of records) {
    const row: Row = {};
    names.forEach((name, j) => {
      const type = types[name];
      if (!type) return; // a column this schema does not know: ignored, as documented
      const value = typed(fields[j]!, type);
      if (value === undefined) {
        warn(`${file}:${line}: ${name}: expected ${type}, got "${fields[j]}"; left empty`);
        row[name] = null;
      } else row[name] = value;
    });
    rows.push(row);
  }
  return rows;
}

/** `forward_pass_summary.json` → kind `forward_pass`. */
export const SUMMARY_FILE_PATTERN = /^(.+)_summary\.json$/;

export const SESSION_METADATA_FILE = "metadata.json";

/** JSON text as an object, or a `file: reason; file skipped` warning and null. */
function jsonObject(text: string, file: string, warn: Warn): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    warn(`${file}: not JSON (${(error as Error).message}); file skipped`);
    return null;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    warn(`${file}: expected a JSON object; file skipped`);
    return null;
  }
  return value as Record<string, unknown>;
}

function valueRow(kind: string, key: string | null, stat: string, v: unknown): Row | null {
  if (typeof v === "number") return { kind, key, stat, value: v, text: null };
  if (typeof v === "boolean") return { kind, key, stat, value: v ? 1 : 0, text: null };
  if (typeof v === "string") return { kind, key, stat, value: null, text: v };
  if (v === null) return { kind, key, stat, value: null, text: null };
  return null;
}

/** Nested objects below the second level: their path joined with dots into `stat`. */
function flatten(kind: string, key: string | null, prefix: string, obj: object, out: Row[]): void {
  for (const [name, v] of Object.entries(obj)) {
    const stat = prefix ? `${prefix}.${name}` : name;
    const row = valueRow(kind, key, stat, v);
    if (row) out.push(row);
    else if (v && typeof v === "object" && !Array.isArray(v)) flatten(kind, key, stat, v, out);
  }
}

/** A profilemate `<kind>_summary.json` (seed 003) in long form (PROFILEMATE_SUMMARIES_TABLE). */
export function parseProfilemateSummary(
  kind: string,
  text: string,
  file: string,
  warn: Warn,
): Row[] {
  const obj = jsonObject(text, file, warn);
  if (!obj) return [];
  const rows: Row[] = [];
  for (const [name, v] of Object.entries(obj)) {
    const row = valueRow(kind, null, name, v);
    if (row) rows.push(row);
    else if (v && typeof v === "object" && !Array.isArray(v)) flatten(kind, name, "", v, rows);
  }
  return rows;
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === "string" ? v : null);

/** A session's `metadata.json` as one PROFILEMATE_SESSIONS_TABLE row; null when malformed. */
export function parseProfilemateMetadata(text: string, file: string, warn: Warn): Row | null {
  const obj = jsonObject(text, file, warn);
  if (!obj) return null;
  const start = obj.start_time;
  let startS = num(start);
  if (startS === null && typeof start === "string") {
    const ms = Date.parse(start);
    startS = Number.isNaN(ms) ? null : ms / 1000;
    if (startS === null)
      warn(`${file}: start_time: expected Unix seconds or a date-time, got "${start}"`);
  }
  const switches = Object.fromEntries(
    Object.entries(obj).filter(([, v]) => typeof v === "boolean"),
  );
  const slice = obj.vscale_slice as Record<string, unknown> | undefined;
  const us = (v: unknown) => (num(v) === null ? null : Math.round(v as number));
  return {
    session_id:
      str(obj.session_id) ?? (num(obj.session_id) === null ? null : String(obj.session_id)),
    start_time_s: startS,
    start_time_text: start === undefined || start === null ? null : String(start),
    output_dir: str(obj.output_dir),
    switches: JSON.stringify(switches),
    slice_experiment_id: str(slice?.experiment_id),
    slice_window_start_us: us(slice?.window_start_us),
    slice_window_end_us: us(slice?.window_end_us),
  };
}
