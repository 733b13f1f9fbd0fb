/**
 * The fit tables hold the whole FitResult: what `vscale fit` wrote reads back
 * as the same result (so the report can draw it without fitting), through
 * readTable and an independent reader alike; and fits keep campaigns apart
 * unless `--by` pools them (issue 11).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fitPaths, formatFitTable, readFitTables, runFits } from "../../analysis/fit/index.ts";
import { formatSequentialFractions } from "../../cli/analyze.ts";
import type { ConfigError } from "../../common/errors.ts";
import { FIT_VALUE_COLUMNS } from "../../formats/fit-tables.ts";
import { duckQuery } from "../aggregate/duckdb-read.ts";
import { amdahlRows, writeSyntheticSummary } from "./helpers/synthetic-summary.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-fit-tables-"));
  await writeSyntheticSummary(dir, [
    ...amdahlRows({ s: 0.1, seed: 1 }),
    ...amdahlRows({ s: 0.05, seed: 3, users: 64, gpus: [1, 2] }),
    // No repeats: the residual bootstrap, and a note.
    ...amdahlRows({ s: 0.2, seed: 4, users: 8, repeats: 1 }),
  ]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("fit tables", () => {
  it("read back as the FitResult that was written, options included", async () => {
    const written = await runFits({ resultsDir: dir, bootstrap: 80, seed: 9, ci: "residual" });
    const read = await readFitTables(dir);
    expect(read).toEqual({ ...written, files: [] });
    expect(read?.ci).toBe("residual");
    expect(read?.groups.map((g) => g.amdahl.ci?.method)).toEqual(["within-n", "residual"]);
    // The default: no interval without repeats, and the reason stored beside it.
    const byDefault = await runFits({ resultsDir: dir, bootstrap: 80, seed: 9 });
    expect(byDefault.groups.map((g) => g.amdahl.ci?.method ?? null)).toEqual(["within-n", null]);
    expect((await readFitTables(dir))?.groups[1]?.amdahl.ciNote).toMatch(/^no repeats/);
    // Every printed interval says how it was made: the campaign's last lines and the table.
    const lines = formatSequentialFractions(written).join("\n");
    expect(lines).toMatch(/95% CI \[[\d.]+, [\d.]+\] \(runs resampled within each N\)/);
    expect(lines).toMatch(/\(residuals resampled: assumes Amdahl holds\)/);
    expect(formatSequentialFractions(byDefault).join("\n")).toMatch(
      /no CI \(no repeats: run repeats ≥ 2/,
    );
    expect(formatFitTable(written)).toMatch(/\]ᵣ/);
    expect(formatFitTable(byDefault)).toMatch(/none†/);
    expect(read?.skipped).toHaveLength(1);
  });

  it("write the same columns and rows to the CSV and the Parquet file", async () => {
    await runFits({ resultsDir: dir, bootstrap: 80, seed: 9 });
    const { csv, parquet } = fitPaths(dir);
    const fromCsv = await duckQuery(
      `SELECT * FROM read_csv('${csv}', header = true, all_varchar = true) ORDER BY "group"`,
    );
    const fromParquet = await duckQuery(`SELECT * FROM '${parquet}' ORDER BY "group"`);
    expect(Object.keys(fromCsv[0] ?? {})).toEqual(Object.keys(fromParquet[0] ?? {}));
    for (const name of FIT_VALUE_COLUMNS.map((c) => c.name))
      expect(Object.keys(fromParquet[0] ?? {})).toContain(name);
    const number = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    expect(fromCsv.map((r) => number(r.s))).toEqual(fromParquet.map((r) => number(r.s)));
    expect(fromCsv.map((r) => r.points)).toEqual(fromParquet.map((r) => r.points));
    expect(fromCsv.map((r) => r.by)).toEqual(fromParquet.map((r) => r.by));
    expect(fromParquet[0]?.by).toBe("campaign,users,prompt_set,model,parallelism");
    expect(Number(fromParquet[0]?.bootstrap)).toBe(80);
    expect(Number(fromParquet[0]?.seed)).toBe(9);
  });
});

describe("fits keep campaigns apart (issue 11)", () => {
  let twice: string;
  beforeAll(async () => {
    // Two copies of one campaign, aggregated together.
    twice = await mkdtemp(join(tmpdir(), "vscale-fit-twice-"));
    const rows = amdahlRows({ s: 0.1, seed: 5, repeats: 2 });
    await writeSyntheticSummary(twice, [
      ...rows.map((r) => ({ ...r, campaign: "copy-a" })),
      ...rows.map((r) => ({ ...r, campaign: "copy-b" })),
    ]);
  });
  afterAll(async () => {
    await rm(twice, { recursive: true, force: true });
  });

  it("fits each campaign on its own by default", async () => {
    const result = await runFits({ resultsDir: twice, bootstrap: 100 });
    expect(result.groups.map((g) => [g.label, g.points.length])).toEqual([
      ["campaign=copy-a", 8],
      ["campaign=copy-b", 8],
    ]);
    // Identical data, identical fits: each campaign's CI is its own, not a pooled one.
    const [a, b] = result.groups;
    expect(a?.amdahl.s).toBe(b?.amdahl.s);
    const csv = await readFile(fitPaths(twice).csv, "utf8");
    expect(csv).toMatch(/\ncampaign=copy-a users=32 .*,copy-a,32,/);
  });

  it("pools them only when --by leaves campaign out", async () => {
    const pooled = await runFits({ resultsDir: twice, by: ["users"], bootstrap: 100 });
    expect(pooled.groups.map((g) => [g.group, g.points.length])).toEqual([["users=32", 16]]);
  });
});

describe("--by", () => {
  it("refuses a key column that would clash with a fit table column", async () => {
    const error = await runFits({ resultsDir: dir, by: ["status"] }).catch((e: unknown) => e);
    expect((error as ConfigError).format()).toMatch(/--by: cannot group by "status"/);
  });
});
