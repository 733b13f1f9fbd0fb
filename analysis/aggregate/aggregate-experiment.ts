/**
 * One experiment folder → its summary row, streaming its requests, GPU
 * samples and gauge samples into the shared output tables on the way.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FACTOR_NAMES, FACTOR_VALUE, type FactorName } from "../../config/schema.ts";
import { AGG_SCHEMA_VERSION } from "../../formats/agg-tables.ts";
import { MetricSampleSchema, RAW_FILES } from "../../formats/raw-layout.ts";
import type { Row } from "./arrow-batch.ts";
import {
  type GpuSample,
  gpuColumns,
  gpusInUseOf,
  parseDmon,
  parseQueryGpuCsv,
} from "./gpu-samples.ts";
import { readNdjson, type Warn } from "./ndjson-lines.ts";
import { type PromSample, parsePrometheusText } from "./prometheus-text.ts";
import { type RawExperiment, statusColumns } from "./raw-experiments.ts";
import { streamRequests } from "./request-records.ts";
import { RequestStats, type Slo } from "./request-stats.ts";
import { counterColumns, GaugeFigures } from "./server-figures.ts";
import type { TableSink } from "./table-sink.ts";

/** `nvidia-smi dmon` output, when the runner captured it (optional). */
export const GPU_DMON_FILE = "gpu-dmon.txt";

export interface ExperimentSinks {
  requests: TableSink;
  gpu: TableSink;
  serverMetrics: TableSink;
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

async function readProm(file: string): Promise<PromSample[] | null> {
  return existsSync(file) ? parsePrometheusText(await readFile(file, "utf8"), file) : null;
}

export async function aggregateExperiment(
  exp: RawExperiment,
  sinks: ExperimentSinks,
  slo: Slo,
  warn: Warn,
): Promise<Row> {
  const { info, dir } = exp;
  const campaign = info.campaign;
  const experimentId = info.experiment_id;
  const factors = factorColumns(exp, warn);
  const gpus = typeof factors.gpus === "number" ? factors.gpus : null;

  // Requests. When the runner never recorded the window (a crash), every
  // non-warm-up request counts and the window spans them.
  const { window_start_us: ws, window_end_us: we } = info.times;
  const window = ws !== null && we !== null ? { startUs: ws, endUs: we } : null;
  let firstStart = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  const stats = new RequestStats(slo);
  const requestsFile = join(dir, RAW_FILES.requests);
  if (existsSync(requestsFile)) {
    const span = await streamRequests(requestsFile, {
      campaign,
      gpus,
      window,
      sink: sinks.requests,
      stats,
      warn,
    });
    firstStart = span.firstStartUs;
    lastEnd = span.lastEndUs;
  } else {
    warn(`${requestsFile}: missing; no request figures for ${campaign}/${experimentId}`);
  }
  const windowS = window
    ? (window.endUs - window.startUs) / 1e6
    : lastEnd > firstStart
      ? (lastEnd - firstStart) / 1e6
      : null;
  const windowStart = window?.startUs ?? firstStart;
  const windowEnd = window?.endUs ?? lastEnd;

  // GPU samples: the query-gpu CSV is the primary source; dmon fills in when it is all there is.
  const samples: GpuSample[] = [];
  const gpuCsv = join(dir, RAW_FILES.gpu);
  if (existsSync(gpuCsv))
    samples.push(...parseQueryGpuCsv(await readFile(gpuCsv, "utf8"), gpuCsv, warn));
  const dmonFile = join(dir, GPU_DMON_FILE);
  if (existsSync(dmonFile))
    samples.push(...parseDmon(await readFile(dmonFile, "utf8"), dmonFile, warn));
  const sampleInWindow = (s: GpuSample) =>
    s.timeUs !== null && s.timeUs >= windowStart && s.timeUs <= windowEnd;
  for (const s of samples) {
    await sinks.gpu.push({
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

  // Server side: counter/histogram deltas and gauge samples.
  const before = await readProm(join(dir, RAW_FILES.metricsBefore));
  const after = await readProm(join(dir, RAW_FILES.metricsAfter));
  const gauges = new GaugeFigures();
  const metricsFile = join(dir, RAW_FILES.metricsSamples);
  if (existsSync(metricsFile)) {
    for await (const { row } of readNdjson(metricsFile, MetricSampleSchema, warn)) {
      gauges.add(row);
      const labels = Object.fromEntries(
        Object.entries(row.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      await sinks.serverMetrics.push({
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

  return {
    schema_version: AGG_SCHEMA_VERSION,
    campaign,
    experiment_id: experimentId,
    group_id: info.group_id,
    repeat: info.repeat,
    ...statusColumns(exp),
    ...factors,
    engine: info.load.engine,
    mode: info.load.mode,
    api: info.load.api,
    model: info.server.model,
    ...stats.finish(windowS),
    ...gpu,
    ...counterColumns(before, after),
    ...gauges.finish(),
  };
}
