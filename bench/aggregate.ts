/**
 * Aggregation speed and memory, and the Parquet writer comparison behind the
 * choice of parquet-wasm (docs/parquet-writers.md).
 *
 * 1. Writers: the same 1M-row table (int64, nullable float64, dictionary and
 *    unique strings, bool, nullable int32, µs timestamp) through parquet-wasm,
 *    hyparquet-writer, parquetjs-lite and @dsnp/parquetjs; each read back by
 *    DuckDB and checked for types, null counts and values.
 * 2. `aggregate()` on 1M and 10M synthetic request records (10 experiments),
 *    beside DuckDB's `read_json` → `COPY … TO parquet` of the same files.
 *
 * Every measured step runs in its own child process (this file re-run with a
 * mode argument) so peak RSS is that step's alone.
 * VSCALE_BENCH_AGG_ROWS=1000000 limits the sizes (default 1000000,10000000);
 * an empty value runs the writer comparison only. VSCALE_BENCH_AGG_WRITERS=0
 * skips the writer comparison. The machine may be shared, so aggregate and
 * DuckDB run back to back on each size and the ratio is the figure to read.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tableToIPC } from "apache-arrow";
import * as pw from "parquet-wasm";
import { RowBatcher } from "../analysis/aggregate/arrow-batch.ts";
import { aggregate } from "../analysis/aggregate/index.ts";
import type { ColumnDef } from "../formats/agg-tables.ts";
import { duckQuery } from "../test/aggregate/duckdb-read.ts";
import { seededRandom, writeGeneratedCampaign } from "../test/aggregate/synthetic-campaign.ts";
import { type BenchRow, printBenchRows } from "./report.ts";

const SELF = fileURLToPath(import.meta.url);
const WRITER_ROWS = 1_000_000;
const WRITERS = ["parquet-wasm", "hyparquet-writer", "parquetjs-lite", "@dsnp/parquetjs"] as const;
type WriterName = (typeof WRITERS)[number];

interface ChildResult {
  seconds: number;
  maxRssMb: number;
  bytes?: number;
  error?: string;
}

// ---------------------------------------------------------------------------
// the writer test table

interface Columns {
  start_us: number[];
  ttft_ms: (number | null)[];
  experiment_id: string[];
  request_id: string[];
  ok: boolean[];
  http_status: (number | null)[];
  time_us: number[];
}

function testColumns(n: number): Columns {
  const rand = seededRandom(11);
  const c: Columns = {
    start_us: [],
    ttft_ms: [],
    experiment_id: [],
    request_id: [],
    ok: [],
    http_status: [],
    time_us: [],
  };
  for (let i = 0; i < n; i++) {
    const t = 1_780_000_000_000_000 + i * 997;
    c.start_us.push(t);
    c.ttft_ms.push(rand() < 0.02 ? null : Math.round(rand() * 400_000) / 1000);
    c.experiment_id.push(`e${i % 10}`);
    c.request_id.push(`req-${i}`);
    c.ok.push(rand() > 0.02);
    c.http_status.push(rand() < 0.01 ? null : 200);
    c.time_us.push(t + 5000);
  }
  return c;
}

const TEST_DEFS: ColumnDef[] = [
  { name: "start_us", type: "int64", nullable: false, doc: "" },
  { name: "ttft_ms", type: "float64", nullable: true, doc: "" },
  { name: "experiment_id", type: "dict", nullable: false, doc: "" },
  { name: "request_id", type: "string", nullable: false, doc: "" },
  { name: "ok", type: "bool", nullable: false, doc: "" },
  { name: "http_status", type: "int32", nullable: true, doc: "" },
  { name: "time_us", type: "timestamp_us", nullable: false, doc: "" },
];

async function writeWith(name: WriterName, c: Columns, file: string): Promise<void> {
  const n = c.start_us.length;
  if (name === "parquet-wasm") {
    const batcher = new RowBatcher(TEST_DEFS);
    // The same properties as production (analysis/aggregate/parquet-file.ts).
    let builder = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD);
    for (const def of TEST_DEFS) {
      if (def.type !== "dict") builder = builder.setColumnDictionaryEnabled(def.name, false);
    }
    const props = builder.build();
    const { writeFile } = await import("node:fs/promises");
    const batches = [];
    for (let i = 0; i < n; i++) {
      batcher.push({
        start_us: c.start_us[i],
        ttft_ms: c.ttft_ms[i],
        experiment_id: c.experiment_id[i],
        request_id: c.request_id[i],
        ok: c.ok[i],
        http_status: c.http_status[i],
        time_us: c.time_us[i],
      });
      if (batcher.pending === 131_072) batches.push(batcher.flush());
    }
    batches.push(batcher.flush());
    const { Table } = await import("apache-arrow");
    const table = new Table(batches.flatMap((b) => b.batches));
    await writeFile(
      file,
      pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, "stream")), props),
    );
    return;
  }
  if (name === "hyparquet-writer") {
    const { parquetWriteFile } = await import("hyparquet-writer");
    parquetWriteFile({
      filename: file,
      columnData: [
        {
          name: "start_us",
          data: c.start_us.map((v) => BigInt(v)),
          type: "INT64",
          nullable: false,
        },
        { name: "ttft_ms", data: c.ttft_ms, type: "DOUBLE" },
        { name: "experiment_id", data: c.experiment_id, type: "STRING", nullable: false },
        { name: "request_id", data: c.request_id, type: "STRING", nullable: false },
        { name: "ok", data: c.ok, type: "BOOLEAN", nullable: false },
        { name: "http_status", data: c.http_status, type: "INT32" },
        {
          name: "time_us",
          data: c.time_us.map((v) => new Date(v / 1000)),
          type: "TIMESTAMP",
          nullable: false,
        },
      ],
    });
    return;
  }
  // parquetjs-lite ships no types: import it by a computed name and describe the part we use.
  const moduleName: string = name;
  const imported = (await import(moduleName)) as ParquetLib & { default?: ParquetLib };
  const lib = imported.default ?? imported;
  const opt = (type: string, optional = false) => ({ type, optional, compression: "SNAPPY" });
  const schema = new lib.ParquetSchema({
    start_us: opt("INT64"),
    ttft_ms: opt("DOUBLE", true),
    experiment_id: opt("UTF8"),
    request_id: opt("UTF8"),
    ok: opt("BOOLEAN"),
    http_status: opt("INT32", true),
    time_us: opt("TIMESTAMP_MICROS"),
  });
  const writer = await lib.ParquetWriter.openFile(schema, file);
  const int64 = name === "@dsnp/parquetjs" ? (v: number) => BigInt(v) : (v: number) => v;
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {
      start_us: int64(c.start_us[i]!),
      experiment_id: c.experiment_id[i],
      request_id: c.request_id[i],
      ok: c.ok[i],
      time_us: BigInt(c.time_us[i]!),
    };
    if (c.ttft_ms[i] !== null) row.ttft_ms = c.ttft_ms[i];
    if (c.http_status[i] !== null) row.http_status = c.http_status[i];
    await writer.appendRow(row);
  }
  await writer.close();
}

interface ParquetLib {
  ParquetSchema: new (fields: Record<string, unknown>) => unknown;
  ParquetWriter: {
    openFile(
      schema: unknown,
      path: string,
    ): Promise<{ appendRow(row: Record<string, unknown>): Promise<void>; close(): Promise<void> }>;
  };
}

/** DuckDB's view of a writer's file against what was written: types, nulls, values. */
async function checkWriterFile(file: string, c: Columns): Promise<string> {
  const problems: string[] = [];
  const types = Object.fromEntries(
    (await duckQuery(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => [
      r.column_name,
      r.column_type,
    ]),
  );
  const want: Record<string, string[]> = {
    start_us: ["BIGINT"],
    ttft_ms: ["DOUBLE"],
    experiment_id: ["VARCHAR"],
    request_id: ["VARCHAR"],
    ok: ["BOOLEAN"],
    http_status: ["INTEGER"],
    time_us: ["TIMESTAMP WITH TIME ZONE", "TIMESTAMP"],
  };
  for (const [column, ok] of Object.entries(want)) {
    if (!ok.includes(String(types[column]))) problems.push(`${column} is ${types[column]}`);
  }
  const [got] = await duckQuery(
    `SELECT count(*) AS n, count(ttft_ms) AS ttft_n, count(http_status) AS http_n,
       sum(start_us)::VARCHAR AS start_sum, sum(ttft_ms) AS ttft_sum, count(DISTINCT request_id) AS ids,
       sum(ok::INT) AS oks, max(epoch_us(time_us::TIMESTAMP)) AS last_us
     FROM read_parquet('${file}')`,
  );
  const nonNull = (a: unknown[]) => a.filter((v) => v !== null).length;
  const expected = {
    n: BigInt(c.start_us.length),
    ttft_n: BigInt(nonNull(c.ttft_ms)),
    http_n: BigInt(nonNull(c.http_status)),
    start_sum: c.start_us.reduce((a, b) => a + BigInt(b), 0n).toString(),
    ids: BigInt(c.request_id.length),
    oks: BigInt(c.ok.filter(Boolean).length),
    last_us: BigInt(c.time_us[c.time_us.length - 1]!),
  };
  for (const [k, v] of Object.entries(expected)) {
    if (got?.[k] !== v) problems.push(`${k} ${got?.[k]} ≠ ${v}`);
  }
  const ttftSum = c.ttft_ms.reduce<number>((a, b) => a + (b ?? 0), 0);
  if (Math.abs(Number(got?.ttft_sum) - ttftSum) > 1e-6 * ttftSum)
    problems.push("ttft_ms sum differs");
  const [enc] = await duckQuery(
    `SELECT string_agg(DISTINCT compression, '/') AS codecs,
       bool_or(encodings LIKE '%DICTIONARY%') FILTER (WHERE path_in_schema = 'experiment_id') AS dict
     FROM parquet_metadata('${file}')`,
  );
  const verdict = problems.length === 0 ? "types, nulls, values ok" : problems.join("; ");
  return `${verdict}; ${enc?.codecs}${enc?.dict ? ", dictionary strings" : ", no dictionary"}`;
}

// ---------------------------------------------------------------------------
// child modes

function maxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function childWriter(name: WriterName, file: string): Promise<ChildResult> {
  const c = testColumns(WRITER_ROWS);
  const t0 = performance.now();
  await writeWith(name, c, file);
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, maxRssMb: maxRssMb(), bytes: (await stat(file)).size };
}

async function childAggregate(resultsDir: string): Promise<ChildResult> {
  const t0 = performance.now();
  await aggregate({ resultsDir });
  return { seconds: (performance.now() - t0) / 1000, maxRssMb: maxRssMb() };
}

async function childDuckdb(resultsDir: string): Promise<ChildResult> {
  const out = join(resultsDir, "duckdb-requests.parquet");
  const t0 = performance.now();
  await duckQuery(
    `COPY (SELECT * FROM read_json('${resultsDir}/raw/*/*/requests.ndjson', format = 'newline_delimited'))
     TO '${out}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  return { seconds: (performance.now() - t0) / 1000, maxRssMb: maxRssMb() };
}

function runChild(args: string[]): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", SELF, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as ChildResult);
      } catch {
        resolve({ seconds: Number.NaN, maxRssMb: Number.NaN, error: `exit ${code}` });
      }
    });
  });
}

// ---------------------------------------------------------------------------

async function compareWriters(work: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const columns = testColumns(WRITER_ROWS);
  const results = new Map<WriterName, ChildResult & { check: string }>();
  for (const name of WRITERS) {
    const file = join(work, `${name.replace(/[@/]/g, "_")}.parquet`);
    console.error(`bench aggregate: writer ${name} …`);
    const r = await runChild(["--writer", name, file]);
    const check = r.error ? `failed: ${r.error}` : await checkWriterFile(file, columns);
    results.set(name, { ...r, check });
  }
  const base = results.get("parquet-wasm")!;
  for (const [name, r] of results) {
    rows.push({
      name: `parquet writer ${name}: 1M rows`,
      figure: WRITER_ROWS / r.seconds,
      unit: "rows/s",
      peer: WRITER_ROWS / base.seconds,
      peerName: "parquet-wasm",
      note: `${((r.bytes ?? Number.NaN) / 1e6).toFixed(1)} MB, peak RSS ${r.maxRssMb.toFixed(0)} MB; ${r.check}`,
    });
  }
  return rows;
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === "--writer") {
    const result = await childWriter(a as WriterName, b!).catch((e: unknown) => ({
      seconds: Number.NaN,
      maxRssMb: maxRssMb(),
      error: String(e instanceof Error ? e.message : e).slice(0, 200),
    }));
    console.log(JSON.stringify(result));
    return;
  }
  if (mode === "--aggregate") return console.log(JSON.stringify(await childAggregate(a!)));
  if (mode === "--duckdb") return console.log(JSON.stringify(await childDuckdb(a!)));

  const rows: BenchRow[] = [];
  const work = await mkdtemp(join(tmpdir(), "vscale-bench-agg-"));
  try {
    // 1. writers
    if (process.env.VSCALE_BENCH_AGG_WRITERS !== "0") rows.push(...(await compareWriters(work)));

    // 2. aggregate vs DuckDB
    const sizes = (process.env.VSCALE_BENCH_AGG_ROWS ?? "1000000,10000000")
      .split(",")
      .filter((s) => s.trim() !== "")
      .map(Number);
    for (const total of sizes) {
      const label = total >= 1e6 ? `${total / 1e6}M` : String(total);
      const dir = join(work, `campaign-${label}`);
      console.error(`bench aggregate: writing ${label} synthetic records …`);
      await writeGeneratedCampaign(dir, {
        campaign: "bench",
        experiments: 10,
        requestsPerExperiment: Math.ceil(total / 10),
      });
      console.error(`bench aggregate: aggregate ${label} …`);
      const ours = await runChild(["--aggregate", dir]);
      console.error(`bench aggregate: duckdb ${label} …`);
      const duck = await runChild(["--duckdb", dir]);
      rows.push(
        {
          name: `aggregate: ${label} requests → Parquet`,
          figure: total / ours.seconds,
          unit: "rows/s",
          peer: total / duck.seconds,
          peerName: "duckdb read_json+COPY",
          note: `goal ≥ 1,000,000 rows/s; DuckDB took ${(duck.seconds / ours.seconds).toFixed(2)}× our time${ours.error ? `; failed: ${ours.error}` : ""}`,
        },
        {
          name: `aggregate: ${label} wall time`,
          figure: ours.seconds,
          unit: "s",
          peer: duck.seconds,
          peerName: "duckdb read_json+COPY",
          note: "goal ≤ 2× DuckDB (aggregate also computes the summary, CSV and other tables)",
        },
        {
          name: `aggregate: ${label} peak RSS`,
          figure: ours.maxRssMb,
          unit: "MB",
          peer: duck.maxRssMb,
          peerName: "duckdb read_json+COPY",
        },
      );
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  printBenchRows(rows);
}

await main();
