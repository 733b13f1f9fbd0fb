/**
 * Writing one experiment's raw folder: experiment.json at the start (what
 * will run) and again at the end (with times), status.json last and
 * atomically, since its presence is what marks the experiment complete.
 */
import { mkdir, rm } from "node:fs/promises";
import { cpus, hostname, platform } from "node:os";
import { join } from "node:path";
import { writeJsonAtomic } from "../common/atomic-write.ts";
import type { Experiment, Plan } from "../config/expand.ts";
import {
  type ExperimentInfo,
  ExperimentInfoSchema,
  experimentDir,
  type Fingerprint,
  type GpuInfo,
  type GpusInUse,
  RAW_FILES,
  RAW_SCHEMA_VERSION,
  type Status,
  StatusSchema,
} from "../formats/raw-layout.ts";
import { promptPrefixShare } from "../load/workload/prefix-share.ts";
import type { PreparedPromptSet } from "../load/workload/prompts.ts";
import { vscaleVersion } from "./paths.ts";

export interface ServerFacts {
  kind: ExperimentInfo["server"]["kind"];
  model: string;
  argvMasked: string[];
  envNames: string[];
  url: string;
  version: string | null;
}

export interface PromptFacts {
  source: "file" | "synthetic";
  count: number;
  tokensEstimated: boolean;
  /** promptPrefixShare() of the set; null when it never ran. */
  prefixShare: number | null;
}

/** promptPrefixShare() per prepared set: a campaign hands the same set to every experiment and repeat using it. */
const prefixShares = new WeakMap<PreparedPromptSet, number>();

/** The facts experiment.json records about the prompt set that was sent. */
export function promptFacts(set: PreparedPromptSet): PromptFacts {
  let prefixShare = prefixShares.get(set);
  if (prefixShare === undefined) {
    prefixShare = promptPrefixShare(set.prompts);
    prefixShares.set(set, prefixShare);
  }
  return {
    source: set.source,
    count: set.prompts.length,
    tokensEstimated: set.tokensEstimated,
    prefixShare,
  };
}

export function hostInfo(): ExperimentInfo["host"] {
  return { hostname: hostname(), platform: platform(), cpus: cpus().length, node: process.version };
}

export function buildExperimentInfo(args: {
  plan: Plan;
  experiment: Experiment;
  server: ServerFacts;
  prompts: PromptFacts;
  gpus: GpuInfo[] | null;
  gpuNote: string | null;
  gpusInUse: GpusInUse;
  fingerprint: Fingerprint | undefined;
  startedAt: string;
}): ExperimentInfo {
  const { plan, experiment: e, server } = args;
  const l = e.load;
  return ExperimentInfoSchema.parse({
    schema_version: RAW_SCHEMA_VERSION,
    campaign: plan.campaign,
    experiment_id: e.id,
    group_id: e.groupId,
    repeat: e.repeat,
    seed: e.seed,
    factors: Object.fromEntries(Object.entries(e.factors).filter(([, v]) => v !== undefined)),
    matrix_file: plan.file,
    server: {
      kind: server.kind,
      model: server.model,
      argv: server.argvMasked,
      env_names: server.envNames,
      url: server.url,
      version: server.version,
    },
    load: {
      engine: l.engine,
      mode: l.mode,
      api: l.api,
      users: l.mode === "closed" ? (l.users ?? null) : null,
      rate: l.mode === "open" ? (l.rate ?? null) : null,
      arrival: l.mode === "open" ? l.arrival : null,
      burstiness: l.mode === "open" ? l.burstiness : null,
      max_concurrency: l.max_concurrency ?? null,
      max_tokens: l.max_tokens,
      stream: l.stream,
      ignore_eos: l.ignore_eos,
      temperature: l.temperature,
      warmup_ms: l.warmup,
      duration_ms: l.duration,
      timeout_ms: l.timeout,
    },
    prompt_set: {
      name: e.promptSet.name,
      source: args.prompts.source,
      count: args.prompts.count,
      tokens_estimated: args.prompts.tokensEstimated,
      prefix_share: args.prompts.prefixShare,
    },
    vscale_version: vscaleVersion(),
    host: hostInfo(),
    gpus: args.gpus,
    gpu_note: args.gpuNote,
    gpus_in_use: args.gpusInUse,
    ...(args.fingerprint ? { fingerprint: args.fingerprint } : {}),
    times: {
      started_at: args.startedAt,
      warmup_start_us: null,
      window_start_us: null,
      window_end_us: null,
      finished_at: null,
    },
  });
}

export class ExperimentWriter {
  readonly dir: string;

  constructor(resultsDir: string, campaign: string, experimentId: string) {
    this.dir = experimentDir(resultsDir, campaign, experimentId);
  }

  path(file: keyof typeof RAW_FILES): string {
    return join(this.dir, RAW_FILES[file]);
  }

  /** A re-run starts from an empty folder: stale files of an earlier attempt must not mix in. */
  async reset(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }

  async writeInfo(info: ExperimentInfo): Promise<void> {
    await writeJsonAtomic(this.path("experiment"), ExperimentInfoSchema.parse(info));
  }

  async writeStatus(status: Omit<Status, "finished_at">): Promise<Status> {
    const full = StatusSchema.parse({ ...status, finished_at: new Date().toISOString() });
    await writeJsonAtomic(this.path("status"), full);
    return full;
  }
}
