/**
 * One experiment folder → its summary row, putting its requests, GPU
 * samples and gauge samples into the shared DuckDB output tables on the way.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { FACTOR_NAMES, FACTOR_VALUE, type FactorName } from "../../config/schema.ts";
import { AGG_SCHEMA_VERSION } from "../../formats/agg-tables.ts";
import { MetricSampleSchema, RAW_FILES } from "../../formats/raw-layout.ts";
import { clientColumns } from "../../load/client-guard.ts";
import { readSegments, type SegmentSet, segmentsClientGuard } from "../../load/segments.ts";
import type { Engine, Row, Session } from "./duck.ts";
import {
  type GpuSample,
  gpuColumns,
  gpusInUseOf,
  parseDmon,
  parseQueryGpuCsv,
} from "./gpu-samples.ts";
import { inputFileProblem, readOptionalText } from "./input-files.ts";
import { readNdjson, type Warn } from "./ndjson-lines.ts";
import type { RowTable } from "./parquet-file.ts";
import { prefixCacheHitRate, prefixCachingOf } from "./prefix-cache.ts";
import { type RawExperiment, statusColumns } from "./raw-experiments.ts";
import { recordFacts, recordProblem } from "./record-checks.ts";
import { addRequestFigures } from "./request-figures.ts";
import { RequestStats, type Slo, type Window } from "./request-stats.ts";
import { type StagedRequests, stageRequests } from "./request-table.ts";
import { scenarioColumns } from "./scenario-figures.ts";
import { readScrape } from "./scrape-files.ts";
import { GaugeFigures, scrapeDeltaColumns } from "./server-figures.ts";

/** `nvidia-smi dmon` output, when the runner captured it (optional). */
export const GPU_DMON_FILE = "gpu-dmon.txt";

export interface ExperimentSinks {
  engine: Engine;
  gpu: RowTable;
  serverMetrics: RowTable;
}

function factorColumns(exp: RawExperiment, warn: Warn): Row {
  const row: Row = {};
  for (const [name, value] of Object.entries(exp.info.factors)) {
    if (!(FACTOR_NAMES as string[]).includes(name)) {
      warn(`${exp.dir}/${RAW_FILES.experiment}: factors.${name}: not a known factor; ignored`);
      continue;
    }
    const parsed = FACTOR_VALUE[name as FactorName].safeParse(value);
    if (!parsed.success) {
      warn(
        `${exp.dir}/${RAW_FILES.experiment}: factors.${name}: ${parsed.error.issues[0]?.message}; left empty`,
      );
      continue;
    }
    row[name] = parsed.data;
  }
  return row;
}

/** Request columns that hold for an experiment with no records: its window and the SLOs used. */
const KNOWN_WITHOUT_RECORDS = new Set(["window_s", "slo_ttft_ms", "slo_tpot_ms"]);

/** With no request records nothing was measured: every request figure is null, never 0. */
function unmeasured(
  columns: Record<string, number | string | null>,
): Record<string, number | string | null> {
  return Object.fromEntries(
    Object.entries(columns).map(([k, v]) => [k, KNOWN_WITHOUT_RECORDS.has(k) ? v : null]),
  );
}

/** The window the runner recorded; null after a crash (every non-warm-up request counts). */
function windowOf(exp: RawExperiment): Window | null {
  const { window_start_us: ws, window_end_us: we } = exp.info.times;
  return ws !== null && we !== null ? { startUs: ws, endUs: we } : null;
}

/** An experiment's request records, staged ahead of the rest of its aggregation. */
export interface StagedExperiment {
  file: string;
  /** Why the file was not read (missing, unreadable); null when it was. */
  problem: string | null;
  /**
   * The staged record files with the window each counts by: one for a plain
   * run, one per segment for a run in segments (load/segments.ts), where each
   * segment's records count by that segment's own window.
   */
  staged: { requests: StagedRequests; window: Window | null }[] | null;
  segments: SegmentSet | null;
  /** Its bad-line warnings, held back so the log keeps experiment order. */
  warnings: string[];
  /**
   * Set by aggregateExperiment when its records cannot be true (record-checks.ts: another
   * experiment's id, repeated request ids): they go into no table.
   */
  refused?: boolean;
}

/**
 * Stages the experiment's requests (`request-table.ts`); run it for the next
 * experiment while this one's figures are computed: DuckDB reads on its own
 * thread while JavaScript counts.
 */
export async function stageExperiment(
  exp: RawExperiment,
  expNo: number,
  engine: Engine,
  session: Session,
): Promise<StagedExperiment> {
  const file = join(exp.dir, RAW_FILES.requests);
  const warnings: string[] = [];
  const hold = (w: string) => warnings.push(w);
  const problem = await inputFileProblem(file);
  const segments = problem === "missing" ? await readSegments(exp.dir, hold) : null;
  if (problem !== null && segments === null)
    return { file, problem, staged: null, segments, warnings };
  const gpus = factorColumns(exp, () => {}).gpus;
  const stage = async (path: string, window: Window | null, part = 0) => {
    const requests = {
      expNo,
      campaign: exp.info.campaign,
      gpus: typeof gpus === "number" ? gpus : null,
      window,
    };
    return { requests: await stageRequests(engine, session, path, requests, hold, part), window };
  };
  if (segments === null)
    return { file, problem, staged: [await stage(file, windowOf(exp))], segments, warnings };
  if (segments.missing.length > 0)
    hold(`${exp.dir}: segment(s) ${segments.missing.join(", ")} of ${segments.count} missing`);
  const staged = [];
  for (const [i, part] of segments.parts.entries())
    staged.push(await stage(part.file, part.window, i));
  return { file, problem: null, staged, segments, warnings };
}

export async function aggregateExperiment(
  exp: RawExperiment,
  requests: StagedExperiment,
  sinks: ExperimentSinks,
  slo: Slo,
  warn: Warn,
): Promise<Row> {
  const { info, dir } = exp;
  const campaign = info.campaign;
  const experimentId = info.experiment_id;
  const factors = factorColumns(exp, warn);

  // Requests. When the runner never recorded the window (a crash), every
  // non-warm-up request counts and the window spans them.
  const window = windowOf(exp);
  let firstStart = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  const stats = new RequestStats(slo);
  const { file: requestsFile, problem: requestsProblem, staged, segments } = requests;
  for (const w of requests.warnings) warn(w);
  let records = 0;
  const problems: string[] = [];
  if (staged !== null) {
    for (const part of staged) {
      records += part.requests.records;
      const facts = await recordFacts(sinks.engine, part.requests.path, experimentId, part.window);
      const problem = recordProblem(facts, part.window);
      if (problem !== null) problems.push(problem);
      if (facts.foreign > 0 || facts.duplicates > 0) requests.refused = true;
      await addRequestFigures(sinks.engine, part.requests.path, part.window, stats);
    }
    firstStart = stats.span.firstStartUs;
    lastEnd = stats.span.lastEndUs;
  } else {
    warn(`${requestsFile}: ${requestsProblem}; request figures left empty`);
  }
  if (requestsProblem === null && !segments && records === 0) {
    const empty = (await stat(requestsFile)).size === 0;
    warn(
      `${requestsFile}: ${empty ? "empty" : "no valid request records (every line was skipped)"}; request figures left empty`,
    );
  }
  const windowS = segments
    ? segments.windowS
    : window
      ? (window.endUs - window.startUs) / 1e6
      : lastEnd > firstStart
        ? (lastEnd - firstStart) / 1e6
        : null;
  const windowStart = window?.startUs ?? firstStart;
  const windowEnd = window?.endUs ?? lastEnd;

  // GPU samples: the query-gpu CSV is the primary source; dmon fills in when it is all there is.
  const samples: GpuSample[] = [];
  const gpuCsv = join(dir, RAW_FILES.gpu);
  const gpuText = await readOptionalText(gpuCsv, "no GPU samples from it", warn);
  if (gpuText !== null) samples.push(...parseQueryGpuCsv(gpuText, gpuCsv, warn));
  const dmonFile = join(dir, GPU_DMON_FILE);
  const dmonText = await readOptionalText(dmonFile, "no GPU samples from it", warn);
  if (dmonText !== null) samples.push(...parseDmon(dmonText, dmonFile, warn));
  const sampleInWindow = (s: GpuSample) =>
    s.timeUs !== null && s.timeUs >= windowStart && s.timeUs <= windowEnd;
  for (const s of samples) {
    sinks.gpu.push({
      schema_version: AGG_SCHEMA_VERSION,
      campaign,
      experiment_id: experimentId,
      source: s.source,
      time: s.timeUs,
      gpu_index: s.gpuIndex,
      util_gpu_pct: s.utilGpuPct,
      util_mem_pct: s.utilMemPct,
      mem_used_mib: s.memUsedMib,
      mem_total_mib: s.memTotalMib,
      power_w: s.powerW,
      temp_c: s.tempC,
      sm_clock_mhz: s.smClockMhz,
      in_window: sampleInWindow(s),
    });
  }
  const hasQuery = samples.some((s) => s.source === "query-gpu");
  const gpu = gpuColumns(
    samples.filter((s) => s.source === (hasQuery ? "query-gpu" : "dmon")),
    gpusInUseOf(info),
    sampleInWindow,
  );

  const measured = stats.finish(windowS);
  // `ok` with no ok completion in the window: 0 req/s would read as a measured zero. Either
  // the requests outlast the window (their latency is still measured) or the run failed.
  if (
    problems.length === 0 &&
    records > 0 &&
    exp.status.status === "ok" &&
    measured.requests_ok === 0
  )
    problems.push(
      `no request ended ok inside the window (${measured.requests_failed} failed there), though status.json says ok: a window shorter than its requests, or a run that failed`,
    );
  const requestProblems = problems.length > 0 ? problems.join("; ") : null;
  if (requestProblems !== null)
    warn(`${requestsFile}: ${requestProblems}; request figures left empty`);
  const requestColumns = records > 0 && requestProblems === null ? measured : unmeasured(measured);
  const itlP50 = (requestColumns.itl_ms_p50 as number | null | undefined) ?? null;
  const scenario = await scenarioColumns(sinks.engine, info.factors, staged, itlP50);

  const client = info.client ?? (segments ? segmentsClientGuard(segments) : undefined);
  if (client === undefined)
    warn(
      `${dir}/${RAW_FILES.experiment}: no client figures (k6 or an older run); client_* left empty`,
    );

  // Server side: counter/histogram deltas and gauge samples.
  const before = await readScrape(join(dir, RAW_FILES.metricsBefore));
  const after = await readScrape(join(dir, RAW_FILES.metricsAfter));
  const gauges = new GaugeFigures();
  const metricsFile = join(dir, RAW_FILES.metricsSamples);
  const metricsProblem = await inputFileProblem(metricsFile);
  if (metricsProblem !== null && metricsProblem !== "missing") {
    warn(`${metricsFile}: ${metricsProblem}; no gauge samples from it`);
  }
  if (metricsProblem === null) {
    for await (const { row } of readNdjson(metricsFile, MetricSampleSchema, warn)) {
      gauges.add(row);
      const labels = Object.fromEntries(
        Object.entries(row.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      sinks.serverMetrics.push({
        schema_version: AGG_SCHEMA_VERSION,
        campaign,
        experiment_id: experimentId,
        time: row.t_us,
        metric: row.metric,
        labels: JSON.stringify(labels),
        value: row.value,
      });
    }
  }

  const deltas = scrapeDeltaColumns(before, after, warn);
  return {
    schema_version: AGG_SCHEMA_VERSION,
    campaign,
    experiment_id: experimentId,
    group_id: info.group_id,
    repeat: info.repeat,
    ...statusColumns(exp),
    request_problems: requestProblems,
    ...factors,
    engine: info.load.engine,
    mode: info.load.mode,
    api: info.load.api,
    model: info.server.model,
    // The load as it ran: how it moved with N tells weak from strong scaling (analysis/fit/compute.ts).
    load_users: info.load.users,
    load_rate: info.load.rate,
    ...requestColumns,
    ...scenario,
    ...gpu,
    // The saturation guard, as the runner wrote it (load/client-guard.ts).
    ...clientColumns(client),
    ...deltas,
    ...gauges.finish(),
    server_prefix_hit_rate: prefixCacheHitRate(deltas),
    server_prefix_caching: prefixCachingOf([after, before], info.server.argv),
    prompt_prefix_share: info.prompt_set.prefix_share ?? null,
  };
}
