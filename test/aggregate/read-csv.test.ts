/**
 * readCsv on files written as the producers write them (Python's csv module
 * and pandas: quoted cells with commas, quotes and newlines; CRLF on Windows)
 * and as a killed or broken producer leaves them: every record keeps the
 * physical line it starts on, and every bad row is named by file:line.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../analysis/aggregate/duck.ts";
import { type CsvOptions, readCsv } from "../../analysis/aggregate/read-csv.ts";

let dir: string;
let engine: Engine;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-read-csv-"));
  engine = await Engine.open();
});
afterAll(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

async function read(name: string, text: string | Buffer, options?: CsvOptions) {
  const file = join(dir, name);
  await writeFile(file, text);
  const warnings: string[] = [];
  const table = await readCsv(engine, file, (w) => warnings.push(w.slice(file.length)), options);
  return { ...table, warnings };
}

describe("readCsv", () => {
  it("reads quoted cells and counts lines across quoted newlines, blank lines and CRLF", async () => {
    const t = await read(
      "quoted.csv",
      'a, b ,c\r\n1,"x, ""y""\r\nz",3\r\n\r\n4,,"{\'r-1\': 1}"\r\n',
    );
    expect(t.names).toEqual(["a", "b", "c"]);
    expect(t.records).toEqual([
      { line: 2, fields: ["1", 'x, "y"\r\nz', "3"] },
      { line: 5, fields: ["4", "", "{'r-1': 1}"] },
    ]);
    expect(t.warnings).toEqual([]);
  });

  it("keeps a row cut short (its cells only) unless every field is required", async () => {
    const text = "a,b,c\n1,2,3\n4,5";
    expect((await read("cut.csv", text)).records.at(-1)).toEqual({ line: 3, fields: ["4", "5"] });
    const exact = await read("cut-exact.csv", text, { exactFields: true });
    expect(exact.records).toHaveLength(1);
    expect(exact.warnings).toEqual([":3: expected 3 fields, found 2; row skipped"]);
  });

  it("reports rows too wide, or over DuckDB's line size, and reads on; a quote left open runs to the end", async () => {
    const t = await read(
      "broken.csv",
      `a,b\n1,2\n\n3,4,5\n6,${"x".repeat(2_100_000)}\n7,8\n9,"open\n10,11\n`,
    );
    expect(t.records.map((r) => [r.line, r.fields[0]])).toEqual([
      [2, "1"],
      [6, "7"],
      [7, "9"],
    ]);
    expect(t.warnings).toEqual([
      ":4: expected 2 fields, found 3; row skipped",
      expect.stringMatching(/^:5: Maximum line size of \d+ bytes exceeded.*; row skipped$/),
    ]);
    // The open quote swallows the rest of the file into one cell (the callers then find it bad).
    expect(t.records[2]?.fields[1]).toBe("open\n10,11");
  });

  it("reads an empty file as no header and no rows; a file not UTF-8 is skipped with a warning", async () => {
    expect(await read("empty.csv", "")).toEqual({ names: [], records: [], warnings: [] });
    const latin1 = await read("latin1.csv", Buffer.from("a,b\n1,\xe9\n", "latin1"));
    expect(latin1.records).toEqual([]);
    expect(latin1.warnings).toEqual([expect.stringMatching(/UTF-8.*; file skipped$/)]);
  });
});
