/**
 * Finds server-side profiles in an experiment folder or a `--profiles` path
 * (the folder and its subfolders, two levels deep) and streams them into the
 * profile tables, which exist only when something was found.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { DataError } from "../../common/errors.ts";
import { AGG_SCHEMA_VERSION, type TableDef } from "../../formats/agg-tables.ts";
import {
  KERNELS_TABLE,
  OPS_TABLE,
  PROFILEMATE_KINDS,
  PROFILEMATE_SESSIONS_TABLE,
  PROFILEMATE_SUMMARIES_TABLE,
  profilemateTable,
  STEP_PHASES_TABLE,
} from "../../formats/profile-tables.ts";
import { readChromeTrace, TRACE_FILE_PATTERN } from "./chrome-trace.ts";
import type { Engine, Row } from "./duck.ts";
import { isReadableOptional, readOptionalText } from "./input-files.ts";
import type { Warn } from "./ndjson-lines.ts";
import { RowTable } from "./parquet-file.ts";
import {
  parseProfilemateMetadata,
  parseProfilemateSummary,
  readProfilemateCsv,
  SESSION_DIR_PATTERN,
  SESSION_METADATA_FILE,
  SUMMARY_FILE_PATTERN,
} from "./profilemate.ts";
import { readStepPhases, STEP_CSV_PATTERN } from "./step-phases.ts";

export interface ProfileKey {
  campaign: string | null;
  experimentId: string | null;
}

export interface FoundProfiles {
  stepCsvs: string[];
  sessions: string[];
  traces: string[];
}

export async function findProfiles(dir: string, depth = 2): Promise<FoundProfiles> {
  const found: FoundProfiles = { stepCsvs: [], sessions: [], traces: [] };
  if (!existsSync(dir)) return found;
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const path = join(dir, e.name);
    if (e.isFile() && STEP_CSV_PATTERN.test(e.name)) found.stepCsvs.push(path);
    else if (e.isFile() && TRACE_FILE_PATTERN.test(e.name)) found.traces.push(path);
    else if (e.isDirectory() && SESSION_DIR_PATTERN.test(e.name)) found.sessions.push(path);
    else if (e.isDirectory() && depth > 1) {
      const inner = await findProfiles(path, depth - 1);
      found.stepCsvs.push(...inner.stepCsvs);
      found.sessions.push(...inner.sessions);
      found.traces.push(...inner.traces);
    }
  }
  return found;
}

/** Output tables created on first row, so tables without data are not written. */
export class ProfileSinks {
  private readonly sinks = new Map<string, RowTable>();

  constructor(
    readonly engine: Engine,
    private readonly outDir: string,
  ) {}

  async push(table: TableDef, key: ProfileKey, source: string, row: Row): Promise<void> {
    let sink = this.sinks.get(table.file);
    if (!sink) {
      const name = `profile_${table.file.replace(/\.parquet$/, "")}`;
      sink = await RowTable.create(this.engine, name, join(this.outDir, table.file), table.columns);
      this.sinks.set(table.file, sink);
    }
    row.schema_version = AGG_SCHEMA_VERSION;
    row.campaign = key.campaign;
    row.experiment_id = key.experimentId;
    row.source = source;
    sink.push(row);
  }

  all(): RowTable[] {
    return [...this.sinks.values()];
  }
}

const SKIPPED = "file skipped";

/** A session's `*_summary.json` files and its `metadata.json` (seed 003). */
async function aggregateSessionJson(
  session: string,
  name: string,
  key: ProfileKey,
  sinks: ProfileSinks,
  warn: Warn,
): Promise<number> {
  let rows = 0;
  const files = (await readdir(session)).sort();
  for (const fileName of files) {
    const kind = SUMMARY_FILE_PATTERN.exec(fileName)?.[1];
    if (kind === undefined) continue;
    const file = join(session, fileName);
    const text = await readOptionalText(file, SKIPPED, warn);
    for (const row of text === null ? [] : parseProfilemateSummary(kind, text, file, warn)) {
      row.session = name;
      await sinks.push(PROFILEMATE_SUMMARIES_TABLE, key, file, row);
      rows++;
    }
  }
  const file = join(session, SESSION_METADATA_FILE);
  const text = await readOptionalText(file, SKIPPED, warn);
  const row = text === null ? null : parseProfilemateMetadata(text, file, warn);
  if (row) {
    row.session = name;
    await sinks.push(PROFILEMATE_SESSIONS_TABLE, key, file, row);
    rows++;
  }
  return rows;
}

/**
 * Every profile under `dir` into the profile tables; returns the rows
 * written. A profile file that cannot be read (cut short by a killed
 * profiler, wrongly named, too large) is warned about and skipped, as a bad
 * request line is: one broken file never costs the whole aggregation.
 */
export async function aggregateProfiles(
  dir: string,
  key: ProfileKey,
  sinks: ProfileSinks,
  warn: Warn,
): Promise<number> {
  const found = await findProfiles(dir);
  let rows = 0;
  const csv = async (file: string, read: (file: string) => Promise<Row[]>) =>
    (await isReadableOptional(file, SKIPPED, warn)) ? read(file) : [];
  for (const file of found.stepCsvs) {
    for (const row of await csv(file, (f) => readStepPhases(sinks.engine, f, warn))) {
      await sinks.push(STEP_PHASES_TABLE, key, file, row);
      rows++;
    }
  }
  for (const session of found.sessions) {
    const name = session.slice(session.lastIndexOf("/") + 1);
    for (const kind of Object.keys(PROFILEMATE_KINDS)) {
      const file = join(session, `${kind}.csv`);
      const read = (f: string) => readProfilemateCsv(sinks.engine, kind, f, warn);
      for (const row of await csv(file, read)) {
        row.session = name;
        await sinks.push(profilemateTable(kind), key, file, row);
        rows++;
      }
    }
    rows += await aggregateSessionJson(session, name, key, sinks, warn);
  }
  for (const file of found.traces) {
    let tables: Awaited<ReturnType<typeof readChromeTrace>>;
    try {
      tables = await readChromeTrace(file, warn);
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      warn(`${error.format()}; ${SKIPPED}`);
      continue;
    }
    for (const row of tables.kernels) await sinks.push(KERNELS_TABLE, key, file, row);
    for (const row of tables.ops) await sinks.push(OPS_TABLE, key, file, row);
    rows += tables.kernels.length + tables.ops.length;
  }
  return rows;
}
