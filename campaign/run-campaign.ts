/**
 * The campaign loop: for each server group with something left to do, start
 * its server, run its experiments one after another, stop it. A server that
 * dies mid-experiment fails that experiment and is restarted for the next; a
 * server that never becomes healthy fails its group; nothing stops the
 * campaign except the user (the abort signal) or a configuration error.
 * Every server started is stopped before this returns or throws.
 */

import { join, resolve } from "node:path";
import { ConfigError, isVscaleError } from "../common/errors.ts";
import type { Experiment, Plan, ServerGroup } from "../config/expand.ts";
import type { Status } from "../formats/raw-layout.ts";
import { describeClientGuard } from "../load/client-guard.ts";
import { preparePromptSet } from "../load/node/prompt-files.ts";
import type { PreparedPromptSet } from "../load/workload/prompts.ts";
import { assertEnginesAvailable } from "./engines.ts";
import { fingerprintPlan } from "./fingerprint.ts";
import { probeGpus } from "./gpu-sampler.ts";
import { gpusInUse } from "./gpus-in-use.ts";
import { resolveGroupEnv, type StartedServer, startGroupServer } from "./group-server.ts";
import { DEFAULT_STOP_GRACE_MS, stopAllGroups } from "./process-group.ts";
import {
  collectServerProfiles,
  createProfileDirs,
  type ProfileDirs,
  type RanExperiment,
} from "./profile-capture.ts";
import { createProgress, type ProgressReporter } from "./progress.ts";
import { buildExperimentInfo, ExperimentWriter } from "./raw-writer.ts";
import { type ReapNote, reapOrphans } from "./reap.ts";
import { openRegularFile } from "./regular-file.ts";
import { type Decision, decideAll, describeChanges } from "./resume.ts";
import { runExperiment } from "./run-experiment.ts";
import { resolveSweepStep } from "./sweep-steps.ts";

export interface CampaignOptions {
  resultsDir: string;
  force?: boolean;
  retryFailed?: boolean;
  only?: string[];
  /** Abort = Ctrl-C: the running experiment becomes `interrupted`, servers stop, we return. */
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** The runner's environment (API key, `${NAME}` references, PATH for nvidia-smi). */
  env?: NodeJS.ProcessEnv;
  stopGraceMs?: number;
}

export interface ExperimentOutcome {
  id: string;
  groupId: string;
  status: Status["status"];
  reason: string | null;
  wallMs: number;
  loadMs: number;
}

export interface ServerStartTiming {
  groupId: string;
  /** From spawn to healthy (the harness's unavoidable wait). */
  startMs: number;
  stopMs: number;
}

export interface CampaignResult {
  campaign: string;
  campaignDir: string;
  outcomes: ExperimentOutcome[];
  /** `reason` is the stored status.json's, for experiments kept from an earlier run. */
  skipped: {
    id: string;
    why: Extract<Decision, { action: "skip" }>["why"];
    reason: string | null;
  }[];
  interrupted: boolean;
  /** What was found of servers that earlier runs left behind (reap.ts). */
  reaped: ReapNote[];
  serverTimings: ServerStartTiming[];
  /** Sweep steps not run because the sweep stopped early (campaign/sweep-steps.ts). */
  sweepStopped: { id: string; reason: string }[];
  wallMs: number;
}

/** The API key, read from the variable `load.api_key_env` names; never stored anywhere. */
export function readApiKey(plan: Plan, env: NodeJS.ProcessEnv): string | undefined {
  const name = plan.matrix.load.api_key_env;
  if (!name) return undefined;
  const value = env[name];
  if (value === undefined || value === "") {
    throw new ConfigError(`environment variable ${name} is not set`, {
      file: plan.file,
      field: "load.api_key_env",
      hint: `export ${name}=<your API key>`,
    });
  }
  return value;
}

function message(error: unknown): string {
  if (isVscaleError(error)) return error.format();
  return error instanceof Error ? error.message : String(error);
}

export async function runCampaign(plan: Plan, options: CampaignOptions): Promise<CampaignResult> {
  const t0 = performance.now();
  const env = options.env ?? process.env;
  const campaignDir = join(options.resultsDir, "raw", plan.campaign);
  const progress = options.progress ?? createProgress({ mode: "quiet", color: false });
  const apiKey = readApiKey(plan, env);
  // Before anything starts: an earlier run's leftovers would hold ports and GPUs.
  const reaped = await reapOrphans(campaignDir, options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
  for (const r of reaped) progress.note(r.line);
  const fingerprints = await fingerprintPlan(plan, env);
  const decisions = await decideAll(plan.experiments, {
    resultsDir: options.resultsDir,
    campaign: plan.campaign,
    force: options.force,
    retryFailed: options.retryFailed,
    only: options.only,
    fingerprints,
  });
  for (const line of describeChanges(decisions)) progress.note(`re-running ${line}`);
  const toRun = plan.experiments.filter((e) => decisions.get(e.id)?.action === "run");
  const skipped: CampaignResult["skipped"] = [];
  for (const e of plan.experiments) {
    const d = decisions.get(e.id);
    if (d?.action === "skip")
      skipped.push({ id: e.id, why: d.why, reason: d.status?.reason ?? null });
  }
  const result: CampaignResult = {
    campaign: plan.campaign,
    campaignDir,
    outcomes: [],
    skipped,
    reaped,
    interrupted: false,
    serverTimings: [],
    sweepStopped: [],
    wallMs: 0,
  };
  if (toRun.length === 0) {
    result.wallMs = performance.now() - t0;
    return result;
  }
  await assertEnginesAvailable(
    toRun.map((e) => e.load),
    plan.file,
  );

  const gpu = await probeGpus(env);
  const prompts = new Map<string, PreparedPromptSet>();
  const warnedKeyInArgv = new Set<string>();
  /** Servers started with profilers on, and the experiments each ran. */
  const profiled = new Map<StartedServer, { dirs: ProfileDirs; ran: RanExperiment[] }>();
  const aborted = () => options.signal?.aborted === true;
  progress.start(toRun.length);
  try {
    for (const group of plan.groups) {
      const experiments = toRun.filter((e) => e.groupId === group.id);
      if (experiments.length === 0) continue;
      if (aborted()) break;
      await runGroup(group, experiments);
    }
  } finally {
    // Belt and braces: nothing this campaign started may outlive it.
    await stopAllGroups(options.stopGraceMs);
    progress.stop();
  }
  result.interrupted = aborted();
  result.wallMs = performance.now() - t0;
  return result;

  async function startServer(group: ServerGroup): Promise<StartedServer> {
    if (apiKey !== undefined && !warnedKeyInArgv.has(group.id)) {
      if (group.argv.some((a) => a.includes("{api_key}"))) {
        warnedKeyInArgv.add(group.id);
        progress.note(
          `server ${group.id}: the command passes {api_key}, which \`ps\` shows; the server also gets it as VLLM_API_KEY, so the flag can go`,
        );
      }
    }
    progress.note(
      group.kind === "external"
        ? `server ${group.id}: using ${group.url}`
        : `server ${group.id}: starting (${group.gpus} GPU${group.gpus > 1 ? "s" : ""})`,
    );
    const t = performance.now();
    // `load.profile`: this process's profilers write into its own folder (profile-capture.ts).
    const profiling =
      plan.matrix.load.profile && group.kind !== "external"
        ? await createProfileDirs(campaignDir, group.id)
        : undefined;
    const server = await startGroupServer(group, {
      campaignDir,
      apiKey,
      env,
      signal: options.signal,
      stopGraceMs: options.stopGraceMs,
      ...(profiling ? { extraEnv: profiling.env } : {}),
    });
    if (profiling) profiled.set(server, { dirs: profiling.dirs, ran: [] });
    result.serverTimings.push({ groupId: group.id, startMs: performance.now() - t, stopMs: 0 });
    return server;
  }

  async function stopServer(server: StartedServer, reason: string): Promise<void> {
    const t = performance.now();
    await server.stop(reason);
    const timing = result.serverTimings.findLast((s) => s.groupId === server.groupId);
    if (timing) timing.stopMs = performance.now() - t;
    const profiles = profiled.get(server);
    if (!profiles) return;
    profiled.delete(server);
    const notes = await collectServerProfiles({
      resultsDir: options.resultsDir,
      campaign: plan.campaign,
      groupId: server.groupId,
      dirs: profiles.dirs,
      ran: profiles.ran,
    }).catch((error: unknown) => [`cannot collect profiles: ${message(error)}`]);
    for (const note of notes) progress.note(`server ${server.groupId}: profiles: ${note}`);
  }

  function profileInput(server: StartedServer) {
    const profiles = profiled.get(server);
    const slice = plan.matrix.load.profile;
    return profiles && slice
      ? { profile: { dirs: profiles.dirs, slice: { atMs: slice.at, forMs: slice.for } } }
      : {};
  }

  async function promptSetFor(e: Experiment, url: string): Promise<PreparedPromptSet> {
    const cached = prompts.get(e.promptSet.name);
    if (cached) return cached;
    if ("file" in e.promptSet.spec) {
      // Never hand a FIFO or a device to a blocking read: see regular-file.ts.
      const handle = await openRegularFile(
        resolve(plan.baseDir, e.promptSet.spec.file),
        `prompts.${e.promptSet.name}.file`,
      );
      await handle.close();
    }
    const prepared = await preparePromptSet(e.promptSet.name, e.promptSet.spec, {
      baseDir: plan.baseDir,
      seed: plan.matrix.seed,
      tokenizeUrl: url,
      model: plan.matrix.server.model,
      ...(apiKey !== undefined ? { apiKey } : {}),
    });
    prompts.set(e.promptSet.name, prepared);
    return prepared;
  }

  /** CUDA_VISIBLE_DEVICES a group's server gets (or would have got). */
  function visibleDevicesOf(group: ServerGroup): string | undefined {
    if (group.kind === "external") return undefined;
    try {
      return resolveGroupEnv(group, env).CUDA_VISIBLE_DEVICES ?? env.CUDA_VISIBLE_DEVICES;
    } catch {
      return undefined;
    }
  }

  /** Record an experiment that could not run at all (its server never came up). */
  async function failWithoutRunning(group: ServerGroup, e: Experiment, reason: string) {
    const writer = new ExperimentWriter(options.resultsDir, plan.campaign, e.id);
    await writer.reset();
    await writer.writeInfo(
      buildExperimentInfo({
        plan,
        experiment: e,
        server: {
          kind: group.kind,
          model: group.model,
          argvMasked: group.argv,
          envNames: Object.keys(group.env).sort(),
          url: group.url ?? "",
          version: null,
        },
        prompts: {
          source: "file" in e.promptSet.spec ? "file" : "synthetic",
          count: 0,
          tokensEstimated: false,
          prefixShare: null,
        },
        gpus: gpu.gpus,
        gpuNote: gpu.note,
        gpusInUse: gpusInUse({
          kind: group.kind,
          cudaVisibleDevices: visibleDevicesOf(group),
          configured: plan.matrix.server.gpu_indices,
          inventory: gpu.gpus,
        }),
        fingerprint: fingerprints.get(e.id),
        startedAt: new Date().toISOString(),
      }),
    );
    await writer.writeStatus({ status: "failed", reason, requests: 0, flags: [] });
    result.outcomes.push({
      id: e.id,
      groupId: group.id,
      status: "failed",
      reason,
      wallMs: 0,
      loadMs: 0,
    });
    progress.experimentEnd(e.id, { status: "failed", reason, wallMs: 0, last: null });
  }

  async function runGroup(group: ServerGroup, experiments: Experiment[]): Promise<void> {
    let server: StartedServer | undefined;
    try {
      for (const [i, planned] of experiments.entries()) {
        if (aborted()) return;
        const sweep = await resolveSweepStep(planned, {
          resultsDir: options.resultsDir,
          campaign: plan.campaign,
        });
        if ("skip" in sweep) {
          progress.note(`${planned.id}: not run (${sweep.skip})`);
          result.sweepStopped.push({ id: planned.id, reason: sweep.skip });
          continue;
        }
        const e = sweep.run;
        if (!server) {
          try {
            server = await startServer(group);
          } catch (error) {
            if (error instanceof ConfigError) throw error;
            if (aborted()) return;
            const reason = `server did not start: ${message(error)}`;
            progress.note(`server ${group.id}: ${reason.split("\n")[0]}`);
            for (const rest of experiments.slice(i)) await failWithoutRunning(group, rest, reason);
            return;
          }
        }
        let promptSet: PreparedPromptSet;
        try {
          promptSet = await promptSetFor(e, server.url);
        } catch (error) {
          await failWithoutRunning(group, e, `prompt set ${e.promptSet.name}: ${message(error)}`);
          continue;
        }
        progress.experimentStart(e.id, e.load.warmup + e.load.duration);
        const run = await runExperiment({
          plan,
          experiment: e,
          server,
          resultsDir: options.resultsDir,
          promptSet,
          gpu,
          fingerprint: fingerprints.get(e.id),
          apiKey,
          env,
          signal: options.signal,
          onProgress: (c) => progress.experimentUpdate(c),
          ...profileInput(server),
        });
        for (const note of run.profileNotes) progress.note(`${e.id}: profiles: ${note}`);
        profiled.get(server)?.ran.push({
          experimentId: e.id,
          windowStartUs: run.window.startUs,
          windowEndUs: run.window.endUs,
        });
        result.outcomes.push({
          id: e.id,
          groupId: group.id,
          status: run.status.status,
          reason: run.status.reason,
          wallMs: run.wallMs,
          loadMs: run.loadMs,
        });
        progress.experimentEnd(e.id, {
          status: run.status.status,
          reason: run.status.reason,
          wallMs: run.wallMs,
          last: run.last,
          window: run.figures,
        });
        if (run.client?.limited) progress.note(`${e.id}: ${describeClientGuard(run.client)}`);
        if (run.serverExited) {
          progress.note(
            `server ${group.id}: exited during ${e.id}; restarting for the next experiment`,
          );
          await stopServer(server, "crashed");
          server = undefined;
        }
      }
    } finally {
      if (server) await stopServer(server, aborted() ? "interrupted" : "done");
    }
  }
}
