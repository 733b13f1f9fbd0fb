/**
 * The embedded DuckDB every Parquet file of aggregation and `fit` goes
 * through: one instance per job, with a memory limit and a spill directory
 * so a 10M-record campaign stays within about 1 GB resident (DuckDB spills
 * its sorts, joins and tables to disk past the limit). DuckDB is also the
 * engine the README tells users to query the results with, so what we write
 * is what they read.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampTZValue,
} from "@duckdb/node-api";
import type { ColumnDef, ColumnType } from "../../formats/agg-tables.ts";
import { ENGINE_DIR_PREFIX, removeDeadEngineDirs } from "./engine-dirs.ts";

export type Cell = number | bigint | string | boolean | null | undefined;
export type Row = Record<string, Cell>;

/**
 * DuckDB's working memory. With V8's own heap and the Parquet writer's
 * buffers on top, 512 MB keeps the process under 1 GB resident at 10M
 * records (bench/aggregate.ts measures it); raise with VSCALE_DUCKDB_MEMORY.
 */
export const DEFAULT_MEMORY_LIMIT = "512MB";

const DUCK_TYPES: Record<ColumnType, string> = {
  int32: "INTEGER",
  int64: "BIGINT",
  float64: "DOUBLE",
  bool: "BOOLEAN",
  string: "VARCHAR",
  dict: "VARCHAR",
  timestamp_us: "TIMESTAMPTZ",
};

export function duckType(type: ColumnType): string {
  return DUCK_TYPES[type];
}

/** A SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier (column names hold no quotes; profilemate headers might). */
export function sqlName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL number literal; null for null/undefined/non-finite. */
export function sqlNumber(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "NULL" : String(value);
}

/** `CREATE TABLE` column list from a format's columns. */
export function columnList(columns: readonly ColumnDef[]): string {
  return columns.map((c) => `${sqlName(c.name)} ${duckType(c.type)}`).join(", ");
}

export interface CopyOptions {
  /** Key/value metadata stored in the footer. */
  metadata?: Record<string, string>;
}

function copyOptions(options: CopyOptions): string {
  const parts = ["FORMAT parquet", "COMPRESSION zstd"];
  const kv = Object.entries(options.metadata ?? {});
  if (kv.length > 0) {
    parts.push(
      `KV_METADATA {${kv.map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(", ")}}`,
    );
  }
  return parts.join(", ");
}

/** A DuckDB connection: statements on one run one after another. */
export class Session {
  constructor(readonly connection: DuckDBConnection) {}

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** Rows as plain JS values (BIGINT → bigint, TIMESTAMPTZ → Date). */
  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }
}

export class Engine extends Session {
  private readonly sessions: Session[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    connection: DuckDBConnection,
    private readonly dir: string,
    private readonly threads: number,
  ) {
    super(connection);
  }

  /** Files of this job only (staged request records), removed with the engine. */
  get scratchDir(): string {
    return join(this.dir, "scratch");
  }

  static async open(opts: { memoryLimit?: string } = {}): Promise<Engine> {
    // Folders of killed jobs (named by pid) would otherwise stay in the temp dir for good.
    await removeDeadEngineDirs(tmpdir());
    const dir = await mkdtemp(join(tmpdir(), `${ENGINE_DIR_PREFIX}${process.pid}-`));
    await mkdir(join(dir, "scratch"));
    const threads = Math.min(availableParallelism(), 8);
    const instance = await DuckDBInstance.create(":memory:", {
      memory_limit: opts.memoryLimit ?? process.env.VSCALE_DUCKDB_MEMORY ?? DEFAULT_MEMORY_LIMIT,
      temp_directory: join(dir, "spill"),
      threads: String(threads),
      // Rows leave in the order they were inserted (experiments sorted, lines in file
      // order): the files are byte-identical across reruns without a sort of every row.
      preserve_insertion_order: "true",
    });
    return new Engine(instance, await instance.connect(), dir, threads);
  }

  /** A second connection, so one statement can run while another is in flight; closed with the engine. */
  async session(): Promise<Session> {
    const session = new Session(await this.instance.connect());
    this.sessions.push(session);
    return session;
  }

  /**
   * Runs `job` on one DuckDB thread per statement. A parallel NDJSON read
   * appends rows, and a parallel scan returns them, in an order that varies
   * under load (measured: reruns differed in `requests.parquet` and, through
   * the order of float sums, in `e2e_ms_mean`), so reads and scans whose
   * order matters run single-threaded; the Parquet writing stays parallel.
   * The setting is the instance's: every session runs single-threaded meanwhile.
   */
  async inOrder<T>(job: () => Promise<T>): Promise<T> {
    await this.run("SET threads = 1");
    try {
      return await job();
    } finally {
      await this.run(`SET threads = ${this.threads}`);
    }
  }

  /** A table `name` with the format's columns. */
  async createTable(name: string, columns: readonly ColumnDef[]): Promise<void> {
    await this.run(`CREATE OR REPLACE TABLE ${sqlName(name)} (${columnList(columns)})`);
  }

  async appender(name: string): Promise<DuckDBAppender> {
    return this.connection.createAppender(name);
  }

  /** `COPY (select) TO path` as zstd Parquet. */
  async copyToParquet(select: string, path: string, options: CopyOptions = {}): Promise<void> {
    await this.run(`COPY (${select}) TO ${sqlString(path)} (${copyOptions(options)})`);
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.connection.closeSync();
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Appends one row in the columns' order; undefined is null. */
export function appendRow(appender: DuckDBAppender, columns: readonly ColumnDef[], row: Row): void {
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) {
      appender.appendNull();
      continue;
    }
    switch (c.type) {
      case "int32":
        appender.appendInteger(Number(v));
        break;
      case "int64":
        appender.appendBigInt(typeof v === "bigint" ? v : BigInt(Math.round(Number(v))));
        break;
      case "float64":
        appender.appendDouble(Number(v));
        break;
      case "bool":
        appender.appendBoolean(Boolean(v));
        break;
      case "timestamp_us":
        appender.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(v)));
        break;
      default:
        appender.appendVarchar(String(v));
    }
  }
  appender.endRow();
}

/** Runs `job` with a fresh engine, closed afterwards whatever happens. */
export async function withEngine<T>(job: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await Engine.open();
  try {
    return await job(engine);
  } finally {
    await engine.close();
  }
}
