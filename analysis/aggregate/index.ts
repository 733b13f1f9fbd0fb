/**
 * `aggregate()`: raw campaign folders → `results/agg/` Parquet tables and a CSV
 * summary, on one embedded DuckDB (`duck.ts`): requests are read by DuckDB's
 * NDJSON reader and staged as Parquet (`request-table.ts`), STAGED_AHEAD
 * experiments ahead of the one whose figures are being computed, and joined
 * into `requests.parquet` as they are (pages copied, not re-encoded); the
 * other tables are appended row by row and written by DuckDB's `COPY … TO`.
 * Every output is written under a temporary name and renamed only after all
 * of them are complete, so a crash or kill mid-way leaves the previous
 * outputs as they were.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { tempPathFor, writeFileAtomic } from "../../common/atomic-write.ts";
import { DataError } from "../../common/errors.ts";
import { FACTOR_NAMES } from "../../config/schema.ts";
import { AGG_FILES, aggDir, PROFILEMATE_FILE_PATTERN } from "../../formats/agg-layout.ts";
import {
  AGG_SCHEMA_VERSION,
  ALWAYS_PRESENT_FACTORS,
  type ColumnDef,
  GPU_TABLE,
  REQUESTS_TABLE,
  SERVER_METRICS_TABLE,
  SUMMARY_TABLE,
} from "../../formats/agg-tables.ts";
import { KERNELS_TABLE, OPS_TABLE, STEP_PHASES_TABLE } from "../../formats/profile-tables.ts";
import { classify } from "../why/classify.ts";
import { StepTotalsSinks, signalsOf } from "../why/signals.ts";
import {
  aggregateExperiment,
  type StagedExperiment,
  stageExperiment,
} from "./aggregate-experiment.ts";
import { Engine, type Row } from "./duck.ts";
import { claimOutDir, removeLeftoverTemps } from "./leftover-temps.ts";
import { RowTable } from "./parquet-file.ts";
import { aggregateProfiles } from "./profiles.ts";
import { discoverExperiments } from "./raw-experiments.ts";
import { DEFAULT_SLO, type Slo } from "./request-stats.ts";
import { RequestsParquet } from "./request-table.ts";
import { tableCsv } from "./table-csv.ts";

export { DEFAULT_SLO } from "./request-stats.ts";

/**
 * Experiments whose requests are read while the current one's figures are
 * computed, each on its own DuckDB session. Each read is single-threaded (see
 * Engine.inOrder), so two of them keep two cores busy where the JavaScript
 * figures leave one idle (measured in bench/aggregate.ts: the main thread
 * waited on DuckDB most of the run with one).
 */
const STAGED_AHEAD = 2;

export interface AggregateOptions {
  resultsDir: string;
  campaign?: string;
  includeIncomplete?: boolean;
  /** Extra folders holding server-side profiles (step CSVs, profilemate sessions, traces). */
  profiles?: string[];
  slo?: Slo;
  /** Warnings: a damaged or missing input, a row or figure left out, and why. */
  log?: (line: string) => void;
  /** Progress (`aggregating <campaign>/<id>`); to `log` when not given. */
  progress?: (line: string) => void;
}

export interface AggregateResult {
  outDir: string;
  experiments: number;
  skipped: { id: string; reason: string }[];
  /** Absolute paths of the files written. */
  files: string[];
}

/** Summary columns: a factor column only when some experiment has that factor. */
export function summaryColumnsFor(rows: readonly Row[]): ColumnDef[] {
  const factors = new Set<string>(FACTOR_NAMES);
  return SUMMARY_TABLE.columns.filter(
    (c) =>
      !factors.has(c.name) ||
      (ALWAYS_PRESENT_FACTORS as string[]).includes(c.name) ||
      rows.some((r) => r[c.name] !== undefined && r[c.name] !== null),
  );
}

/** Tables written only when profiles are found (profilemate's are named by CSV kind). */
export function isProfileTableFile(name: string): boolean {
  return (
    [STEP_PHASES_TABLE.file, KERNELS_TABLE.file, OPS_TABLE.file].includes(name) ||
    PROFILEMATE_FILE_PATTERN.test(name)
  );
}

/**
 * Profile tables an earlier run wrote but this one did not: left in place they
 * would pass for this run's data (the report draws them). Removed only after
 * the new outputs are in, so a failed run still leaves the previous set whole.
 */
async function removeStaleProfileTables(
  outDir: string,
  written: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  const keep = new Set(written);
  for (const name of await readdir(outDir)) {
    const file = join(outDir, name);
    if (!isProfileTableFile(name) || keep.has(file)) continue;
    await rm(file, { force: true });
    log(`removed ${file}: no such profiles in this aggregation`);
  }
}

export async function aggregate(opts: AggregateOptions): Promise<AggregateResult> {
  const log = opts.log ?? (() => {});
  const slo = opts.slo ?? DEFAULT_SLO;
  const outDir = aggDir(opts.resultsDir);
  const { experiments, skipped } = await discoverExperiments(opts.resultsDir, opts);
  for (const s of skipped) log(`skipped ${s.id}: ${s.reason}`);

  await mkdir(outDir, { recursive: true });
  const release = claimOutDir(outDir);
  await removeLeftoverTemps(outDir, log);
  const metadata = { "vscale.schema_version": String(AGG_SCHEMA_VERSION) };
  const staged: { tmp: string; target: string }[] = [];
  const engine = await Engine.open();
  // The experiments staged ahead, awaited before the engine closes whatever happens.
  const ahead: Promise<StagedExperiment>[] = [];
  // Open from before the first experiment to its finish(); closed unfinished on a failure.
  let requestsOut: RequestsParquet | null = null;
  try {
    const staging = await Promise.all(Array.from({ length: STAGED_AHEAD }, () => engine.session()));
    const sinks = {
      engine,
      gpu: await RowTable.create(engine, "gpu", join(outDir, GPU_TABLE.file), GPU_TABLE.columns),
      serverMetrics: await RowTable.create(
        engine,
        "server_metrics",
        join(outDir, SERVER_METRICS_TABLE.file),
        SERVER_METRICS_TABLE.columns,
      ),
    };
    const profileSinks = new StepTotalsSinks(engine, outDir);
    const summaryRows: Row[] = [];
    const requestsTarget = join(outDir, REQUESTS_TABLE.file);
    const requestsTmp = tempPathFor(requestsTarget);
    staged.push({ tmp: requestsTmp, target: requestsTarget });
    const requestsFile = await RequestsParquet.create(engine, requestsTmp, { metadata });
    requestsOut = requestsFile;
    const stage = (expNo: number) => {
      const exp = experiments[expNo];
      if (exp === undefined) return;
      const next = stageExperiment(exp, expNo, sinks.engine, staging[expNo % STAGED_AHEAD]!);
      next.catch(() => {}); // awaited below; not unhandled meanwhile
      ahead.push(next);
    };
    await engine.inOrder(async () => {
      for (let expNo = 0; expNo < STAGED_AHEAD; expNo++) stage(expNo);
      for (const [expNo, exp] of experiments.entries()) {
        const { campaign, experiment_id: experimentId } = exp.info;
        const requests = await ahead.shift()!;
        // Its session is free again: it takes the next experiment not yet staged.
        stage(expNo + STAGED_AHEAD);
        (opts.progress ?? log)(`aggregating ${campaign}/${experimentId}`);
        const row = await aggregateExperiment(exp, requests, sinks, slo, log);
        // Records that cannot be true (record-checks.ts) join no table; the summary says why.
        for (const part of requests.staged ?? []) {
          if (requests.refused) await rm(part.requests.path, { force: true });
          else await requestsFile.add(part.requests);
        }
        await aggregateProfiles(exp.dir, { campaign, experimentId }, profileSinks, log);
        // After its profiles: the class reads the step phases too (analysis/why/).
        const { bottleneck, evidence } = classify(
          signalsOf(row, profileSinks.totalsOf(campaign, experimentId)),
        );
        if (bottleneck === null) log(`${exp.dir}: bottleneck left empty: ${evidence}`);
        summaryRows.push({ ...row, bottleneck, bottleneck_evidence: evidence });
      }
    });
    for (const path of opts.profiles ?? []) {
      if (!existsSync(path)) {
        throw new DataError("profile path not found", { file: path, field: "--profiles" });
      }
      const rows = await aggregateProfiles(
        path,
        { campaign: null, experimentId: null },
        profileSinks,
        log,
      );
      if (rows === 0) log(`${path}: no step CSVs, profilemate sessions or chrome traces found`);
    }
    requestsOut = null;
    await requestsFile.finish();
    for (const table of [sinks.gpu, sinks.serverMetrics, ...profileSinks.all()]) {
      staged.push({ tmp: table.tmpPath, target: table.target });
      await table.commit({ metadata });
    }

    const columns = summaryColumnsFor(summaryRows);
    const summaryTarget = join(outDir, SUMMARY_TABLE.file);
    const summary = await RowTable.create(engine, "summary", summaryTarget, columns);
    staged.push({ tmp: summary.tmpPath, target: summaryTarget });
    for (const row of summaryRows) summary.push(row);
    await summary.commit({ metadata });
    const csvTarget = join(outDir, AGG_FILES.summaryCsv);
    const csvTmp = tempPathFor(csvTarget);
    staged.push({ tmp: csvTmp, target: csvTarget });
    await writeFileAtomic(csvTmp, tableCsv(columns, summaryRows));

    // Every output is complete: swap them all in.
    for (const { tmp, target } of staged) await rename(tmp, target);
    const files = staged.map((s) => s.target);
    await removeStaleProfileTables(outDir, files, log);
    (opts.progress ?? log)(
      `wrote ${files.length} files to ${outDir} (${experiments.length} experiments)`,
    );
    return { outDir, experiments: experiments.length, skipped, files };
  } catch (error) {
    await requestsOut?.abandon();
    await Promise.all(staged.map(({ tmp }) => rm(tmp, { force: true })));
    throw error;
  } finally {
    await Promise.allSettled(ahead);
    await engine.close();
    release();
  }
}
