/**
 * A CSV file written row by row while the server runs (profilers can run for
 * hours, so rows are not held in memory) and closed at shutdown. Cells are
 * quoted as pandas' `to_csv` quotes them (only when they hold a comma, quote
 * or newline); null is an empty cell.
 */
import { createWriteStream, type WriteStream } from "node:fs";

export type CsvCell = string | number | boolean | null;

export function csvCell(value: CsvCell): string {
  if (value === null) return "";
  const text = typeof value === "number" && !Number.isFinite(value) ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export class CsvStream {
  private readonly out: WriteStream;
  private failure: Error | undefined;

  constructor(path: string, header: readonly string[]) {
    this.out = createWriteStream(path);
    this.out.on("error", (error) => {
      this.failure = error;
    });
    this.out.write(`${header.join(",")}\n`);
  }

  row(cells: readonly CsvCell[]): void {
    if (this.failure) return;
    this.out.write(`${cells.map(csvCell).join(",")}\n`);
  }

  /** Flush and close; rejects with the first write error. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        this.out.destroy();
        reject(this.failure);
        return;
      }
      this.out.end(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }
}
