/**
 * The one row format every benchmark reports. A bench prints rows with
 * `printBenchRows` (through bench/report.ts); `vscale bench` (npm run bench)
 * collects them into one table.
 * Figures are compared with a peer (another tool, or a planted truth) measured
 * on the same run, as a ratio, never against a wall-clock constant.
 */
export interface BenchRow {
  /** e.g. `sim: concurrent streams`. */
  name: string;
  figure: number;
  unit: string;
  /** The same quantity for the peer, or the goal / planted value; null when none. */
  peer: number | null;
  /** What the peer is, e.g. `duckdb read_json+COPY` or `goal`. */
  peerName?: string;
  note?: string;
}

const MARKER = "VSCALE_BENCH ";

export function printBenchRows(rows: BenchRow[]): void {
  for (const row of rows) process.stdout.write(`${MARKER}${JSON.stringify(row)}\n`);
}

export function parseBenchOutput(text: string): BenchRow[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith(MARKER))
    .map((line) => JSON.parse(line.slice(MARKER.length)) as BenchRow);
}

export function ratio(row: BenchRow): number | null {
  return row.peer === null || row.peer === 0 ? null : row.figure / row.peer;
}
