/**
 * Seed 003's profilemate session folders (`session_<timestamp>/`): each known
 * CSV kind becomes rows typed by PROFILEMATE_KINDS; an empty cell is null (it
 * means "did not happen", e.g. never preempted); a cell that does not fit its
 * type is reported and left null.
 */

import type { ColumnType } from "../../formats/agg-tables.ts";
import { PROFILEMATE_KINDS } from "../../formats/profile-tables.ts";
import { parseCsv } from "./csv-text.ts";
import type { Row } from "./duck.ts";
import type { Warn } from "./ndjson-lines.ts";

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

export function parseProfilemateCsv(kind: string, text: string, file: string, warn: Warn): Row[] {
  const types = PROFILEMATE_KINDS[kind];
  if (!types) return [];
  const [header, ...records] = parseCsv(text);
  const names = header?.fields.map((f) => f.trim()) ?? [];
  const rows: Row[] = [];
  for (const { line, fields } of records) {
    if (fields.length !== names.length) {
      warn(`${file}:${line}: expected ${names.length} fields, found ${fields.length}; row skipped`);
      continue;
    }
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
