/**
 * CSV files (seed 000's step CSVs, profilemate's session CSVs, step grids)
 * read by DuckDB's own CSV reader: RFC 4180 as pandas' `to_csv` and Python's
 * `csv` module write it. Every cell is text (callers type them, with their
 * own messages); each record keeps the line it starts on, for messages.
 */
import { type Session, sqlString } from "./duck.ts";
import type { Warn } from "./ndjson-lines.ts";

export interface CsvRecord {
  line: number;
  /** The record's cells; fewer than the header's when the row was cut short. */
  fields: string[];
}

export interface CsvTable {
  /** The header's cells, trimmed; empty for an empty file. */
  names: string[];
  records: CsvRecord[];
}

export interface CsvOptions {
  /** Also report and skip rows with fewer cells than the header (by default they are kept). */
  exactFields?: boolean;
}

interface Layout {
  lines: number;
  width: number;
  blanks: number[];
}

interface Reject {
  line: bigint;
  error_message: string;
  csv_line: string | null;
}

/** A warning's line and text, sent in line order once the file is read. */
interface Note {
  line: number;
  text: string;
}

let scans = 0;

const newlines = (text: string) => text.split("\n").length - 1;

/**
 * The file's physical lines: how many, the widest (in commas, an upper bound on
 * its fields: a quoted comma only widens it) and which are blank. DuckDB skips
 * blank lines and counts a quoted newline in no line number, so the lines of
 * records are recounted from these (`assignLines`).
 */
async function layoutOf(session: Session, file: string): Promise<Layout> {
  const [row] = await session.rows(`
    SELECT len(ls) AS lines,
      list_max(list_transform(ls, l -> length(l) - length(replace(l, ',', '')))) + 1 AS width,
      list_filter(range(1, len(ls) + 1), i -> rtrim(ls[i], chr(13)) = '') AS blanks
    FROM (SELECT string_split(content, chr(10)) AS ls FROM read_text(${sqlString(file)}))`);
  return {
    lines: Number(row?.lines ?? 0),
    width: Number(row?.width ?? 1),
    blanks: ((row?.blanks as bigint[] | undefined) ?? []).map(Number),
  };
}

/**
 * Reads `file` whole. A row DuckDB rejects (one over its line size) is
 * reported as `file:line: reason; row skipped`, as is a row with more cells
 * than the header (or fewer, with `exactFields`); a quote left open runs to
 * the end of the file in one cell. A file DuckDB cannot read as text (not
 * UTF-8) is a `file: reason; file skipped` warning and no records.
 */
export async function readCsv(
  session: Session,
  file: string,
  warn: Warn,
  options: CsvOptions = {},
): Promise<CsvTable> {
  let layout: Layout;
  try {
    layout = await layoutOf(session, file);
  } catch (error) {
    warn(`${file}: ${(error as Error).message.split("\n")[0]}; file skipped`);
    return { names: [], records: [] };
  }
  const scan = `csv_rejects_${++scans}`;
  // Explicit columns, dialect and no sniffing: the sniffer gives up on the broken files this
  // reader must report row by row. No parallel scan: rows come in file order.
  const columns = Array.from({ length: layout.width }, (_, i) => `'c${i}': 'VARCHAR'`).join(", ");
  const rows = await session.rows(`
    SELECT * FROM read_csv(${sqlString(file)}, columns = {${columns}}, header = false,
      auto_detect = false, delim = ',', quote = '"', escape = '"', all_varchar = true,
      null_padding = true, nullstr = '\x01', strict_mode = false, parallel = false,
      store_rejects = true, rejects_table = '${scan}', rejects_scan = '${scan}_scans')`);
  const rejects = (await session.rows(
    `SELECT line, error_message, csv_line FROM ${scan}`,
  )) as unknown as Reject[];
  await session.run(`DROP TABLE ${scan}; DROP TABLE ${scan}_scans`);
  // null_padding fills a short row's missing cells with NULL; an empty cell is '' (nullstr).
  const cells = rows.map((row) => {
    const values = Object.values(row) as (string | null)[];
    const end = values.indexOf(null);
    return end === -1 ? (values as string[]) : (values.slice(0, end) as string[]);
  });
  const notes: Note[] = [];
  const [header, ...body] = assignLines(cells, rejects, layout, notes);
  const names = header?.fields.map((f) => f.trim()) ?? [];
  const fits = (r: CsvRecord) =>
    r.fields.length === names.length || (!options.exactFields && r.fields.length < names.length);
  for (const r of body) if (!fits(r)) notes.push({ line: r.line, text: fieldCount(r, names) });
  for (const n of notes.sort((a, b) => a.line - b.line)) warn(`${file}:${n.line}: ${n.text}`);
  return { names, records: body.filter(fits) };
}

const fieldCount = (r: CsvRecord, names: string[]) =>
  `expected ${names.length} fields, found ${r.fields.length}; row skipped`;

/** `file:line: expected N fields, found M; row skipped`. */
export function reportFieldCount(file: string, r: CsvRecord, names: string[], warn: Warn): void {
  warn(`${file}:${r.line}: ${fieldCount(r, names)}`);
}

/**
 * The physical line each record starts on. DuckDB's rejects count records
 * and blank lines (not quoted newlines), so two counters walk the file
 * together: `physical` and DuckDB's `counted`.
 */
function assignLines(
  cells: string[][],
  rejects: Reject[],
  layout: Layout,
  notes: Note[],
): CsvRecord[] {
  const blank = new Set(layout.blanks);
  const rejected = new Map(rejects.map((r) => [Number(r.line), r]));
  let physical = 1;
  let counted = 1;
  const skipToRecord = () => {
    for (;;) {
      const reject = rejected.get(counted);
      if (blank.has(physical)) {
        physical++;
        counted++;
      } else if (reject) {
        notes.push({ line: physical, text: `${reject.error_message}; row skipped` });
        // Its csv_line starts with the blank lines before it, if any.
        physical += 1 + newlines((reject.csv_line ?? "").replace(/^[\r\n]+/, ""));
        counted++;
      } else return;
    }
  };
  const records = cells.map((fields) => {
    skipToRecord();
    const line = physical;
    physical += 1 + fields.reduce((n, f) => n + newlines(f), 0);
    counted++;
    return { line, fields };
  });
  skipToRecord();
  // Lines DuckDB returned no record for (none seen; the check keeps a gap from going unsaid).
  if (physical <= layout.lines)
    notes.push({
      line: physical,
      text: "not read by DuckDB's CSV reader; rest of the file skipped",
    });
  return records;
}
