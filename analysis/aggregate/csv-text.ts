/**
 * A small RFC 4180 CSV reader (quoted fields, doubled quotes, commas and
 * newlines inside quotes), enough for what pandas' `to_csv` and Python's
 * `csv` module write. Each record keeps the line it started on, for messages.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "")) records.push({ line: start, fields });
    fields = [];
    field = "";
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else if (ch === "\n") {
      endRecord();
      line++;
      start = line;
    } else if (ch !== "\r") field += ch;
    i++;
  }
  if (field !== "" || fields.length > 0) endRecord();
  return records;
}
