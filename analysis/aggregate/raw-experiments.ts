/**
 * Finds the experiments under `results/raw/` and reads what marks them:
 * experiment.json (what ran) and status.json (that it finished). An
 * experiment without status.json is incomplete: left out and reported, or
 * kept as `interrupted` when asked.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import { DataError } from "../../common/errors.ts";
import {
  type ExperimentInfo,
  ExperimentInfoSchema,
  PROFILES_STAGING_DIR,
  RAW_FILES,
  SERVERS_DIR,
  type Status,
  StatusSchema,
} from "../../formats/raw-layout.ts";

export interface RawExperiment {
  dir: string;
  info: ExperimentInfo;
  status: Status;
  /** Why the window is doubtful: status.json's flags, or what the files show for older runs. */
  windowFlags: string[];
}

/** The summary columns that come from status.json. */
export function statusColumns(exp: RawExperiment): {
  status: Status["status"];
  status_reason: string | null;
  window_flags: string | null;
} {
  return {
    status: exp.status.status,
    status_reason: exp.status.reason,
    window_flags: exp.windowFlags.length > 0 ? exp.windowFlags.join("; ") : null,
  };
}

/**
 * Runs older than status.json's `flags` say nothing; a before-scrape with no
 * after-scrape is still visible in the files (the frozen-server symptom).
 */
function flagsFromFiles(dir: string, status: Status): string[] {
  if (status.flags) return status.flags;
  const before = existsSync(join(dir, RAW_FILES.metricsBefore));
  const after = existsSync(join(dir, RAW_FILES.metricsAfter));
  return status.status === "ok" && before && !after
    ? [`no ${RAW_FILES.metricsAfter} although ${RAW_FILES.metricsBefore} exists`]
    : [];
}

export interface Discovery {
  experiments: RawExperiment[];
  skipped: { id: string; reason: string }[];
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter(
      (e) =>
        e.isDirectory() &&
        !e.name.startsWith(".") &&
        e.name !== SERVERS_DIR &&
        e.name !== PROFILES_STAGING_DIR,
    )
    .map((e) => e.name)
    .sort();
}

/** Parse a JSON file against its schema; the error names file and field. */
export async function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
): Promise<z.infer<S>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new DataError(`not valid JSON: ${(error as Error).message}`, { file });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError(issue?.message ?? "invalid", {
      file,
      field: issue?.path.join(".") || undefined,
    });
  }
  return parsed.data;
}

export async function discoverExperiments(
  resultsDir: string,
  opts: { campaign?: string; includeIncomplete?: boolean },
): Promise<Discovery> {
  const rawDir = join(resultsDir, "raw");
  if (!existsSync(rawDir)) {
    throw new DataError("no raw results here", {
      file: rawDir,
      hint: "run a campaign first, or pass --results <dir> holding raw/",
    });
  }
  let campaigns = await subdirs(rawDir);
  if (opts.campaign !== undefined) {
    if (!campaigns.includes(opts.campaign)) {
      throw new DataError(`no campaign "${opts.campaign}"`, {
        file: rawDir,
        field: "--campaign",
        hint: campaigns.length > 0 ? `found: ${campaigns.join(", ")}` : "no campaigns found",
      });
    }
    campaigns = [opts.campaign];
  }
  const experiments: RawExperiment[] = [];
  const skipped: Discovery["skipped"] = [];
  for (const campaign of campaigns) {
    for (const name of await subdirs(join(rawDir, campaign))) {
      const dir = join(rawDir, campaign, name);
      const id = `${campaign}/${name}`;
      const infoFile = join(dir, RAW_FILES.experiment);
      if (!existsSync(infoFile)) {
        skipped.push({ id, reason: `no ${RAW_FILES.experiment}` });
        continue;
      }
      let info: ExperimentInfo;
      try {
        info = await readJsonFile(infoFile, ExperimentInfoSchema);
      } catch (error) {
        skipped.push({ id, reason: error instanceof DataError ? error.format() : String(error) });
        continue;
      }
      // The runner names each folder after its experiment (formats/raw-layout.ts): a folder
      // named otherwise is a copy, which would add a second row with the same id (and a
      // second fit point for one run).
      if (info.campaign !== campaign || info.experiment_id !== name) {
        skipped.push({
          id,
          reason: `${RAW_FILES.experiment} says ${info.campaign}/${info.experiment_id}: a copied or renamed folder (each experiment's folder is named after it)`,
        });
        continue;
      }
      const statusFile = join(dir, RAW_FILES.status);
      let status: Status;
      if (existsSync(statusFile)) {
        try {
          status = await readJsonFile(statusFile, StatusSchema);
        } catch (error) {
          skipped.push({ id, reason: error instanceof DataError ? error.format() : String(error) });
          continue;
        }
      } else if (opts.includeIncomplete) {
        status = {
          status: "interrupted",
          reason: `no ${RAW_FILES.status}: the run did not finish`,
          finished_at: info.times.finished_at ?? info.times.started_at,
          requests: 0,
        };
      } else {
        skipped.push({
          id,
          reason: `no ${RAW_FILES.status} (incomplete run; --include-incomplete keeps it)`,
        });
        continue;
      }
      experiments.push({ dir, info, status, windowFlags: flagsFromFiles(dir, status) });
    }
  }
  experiments.sort((a, b) =>
    a.info.campaign === b.info.campaign
      ? compare(a.info.experiment_id, b.info.experiment_id)
      : compare(a.info.campaign, b.info.campaign),
  );
  return { experiments, skipped };
}

/** Code-unit order, independent of locale: the same on every machine. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
