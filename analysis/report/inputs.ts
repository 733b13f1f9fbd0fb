/**
 * Everything the report reads besides the summary and the fits, each optional
 * file tolerated when absent: `agg/requests.parquet` (latency CDFs),
 * `agg/step_phases.parquet` (seed 000), `agg/kernels.parquet` (seed 001),
 * each through readTable against its format, and the raw `experiment.json`
 * files (dates and versions for the header, each run's window for the CDFs).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { aggPath } from "../../formats/agg-layout.ts";
import { REQUESTS_TABLE } from "../../formats/agg-tables.ts";
import { KERNELS_TABLE, STEP_PHASES_TABLE } from "../../formats/profile-tables.ts";
import { RAW_FILES } from "../../formats/raw-layout.ts";
import { readOptionalTable, type TableRows } from "../../formats/read-table.ts";
import type { Window } from "../../stats/request-window.ts";

export interface ExperimentMeta {
  campaign: string | null;
  experimentId: string | null;
  /** The measurement window the runner recorded; null after a crash. */
  window: Window | null;
  startedAt: string | null;
  finishedAt: string | null;
  serverKind: string | null;
  serverVersion: string | null;
  vscaleVersion: string | null;
  node: string | null;
}

export interface ReportInputs {
  requests: TableRows | null;
  stepPhases: TableRows | null;
  kernels: TableRows | null;
  experiments: ExperimentMeta[];
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** Raw experiment.json files, read loosely: the header only needs a few fields. */
async function readExperimentMeta(resultsDir: string): Promise<ExperimentMeta[]> {
  const raw = join(resultsDir, "raw");
  const out: ExperimentMeta[] = [];
  const campaigns = await readdir(raw, { withFileTypes: true }).catch(() => []);
  for (const campaign of campaigns.filter((d) => d.isDirectory())) {
    const experiments = await readdir(join(raw, campaign.name), { withFileTypes: true }).catch(
      () => [],
    );
    for (const e of experiments.filter((d) => d.isDirectory() && !d.name.startsWith("_"))) {
      const text = await readFile(
        join(raw, campaign.name, e.name, RAW_FILES.experiment),
        "utf8",
      ).catch(() => null);
      if (text === null) continue;
      try {
        const info = JSON.parse(text) as Record<string, Record<string, unknown> | undefined>;
        const ws = info.times?.window_start_us;
        const we = info.times?.window_end_us;
        out.push({
          campaign: str(info.campaign),
          experimentId: str(info.experiment_id),
          window:
            typeof ws === "number" && typeof we === "number" ? { startUs: ws, endUs: we } : null,
          startedAt: str(info.times?.started_at),
          finishedAt: str(info.times?.finished_at),
          serverKind: str(info.server?.kind),
          serverVersion: str(info.server?.version),
          vscaleVersion: str(info.vscale_version),
          node: str(info.host?.node),
        });
      } catch {
        // A half-written or foreign file: the header just has less to say.
      }
    }
  }
  return out;
}

export async function readReportInputs(resultsDir: string): Promise<ReportInputs> {
  const read = (format: typeof REQUESTS_TABLE) =>
    readOptionalTable(format, aggPath(resultsDir, format.file));
  const [requests, stepPhases, kernels, experiments] = await Promise.all([
    read(REQUESTS_TABLE),
    read(STEP_PHASES_TABLE),
    read(KERNELS_TABLE),
    readExperimentMeta(resultsDir),
  ]);
  return { requests, stepPhases, kernels, experiments };
}
