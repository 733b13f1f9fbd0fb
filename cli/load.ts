/**
 * `vscale load`: the Node load engine alone, against any OpenAI-compatible
 * URL. Prints live progress to stderr (on a terminal) and a summary at the end.
 */

import { dirname, join } from "node:path";
import type { Command } from "commander";
import { ConfigError } from "../common/errors.ts";
import { formatDurationMs } from "../config/duration.ts";
import { LIMITS } from "../config/limits.ts";
import {
  type ControlledScenario,
  DECODE_PROMPT_TOKENS,
  SCENARIOS,
  scenarioPromptSet,
} from "../config/scenarios.ts";
import { segmentFileNames } from "../formats/raw-layout.ts";
import { resolveCliPrompts } from "../load/cli-prompts.ts";
import { describeClientGuard } from "../load/client-guard.ts";
import { resolveWorkers } from "../load/node/auto-workers.ts";
import { firstServedModel } from "../load/node/models.ts";
import { preparePromptSet } from "../load/node/prompt-files.ts";
import type { LiveCounters } from "../load/node/run.ts";
import { runLoad } from "../load/node/workers.ts";
import { completeSegmentedRun, writeSegmentInfo } from "../load/segments.ts";
import { formatSummary, summarizeRequestsFile } from "../load/summary.ts";
import type { LoadSchedule } from "../load/workload/arrivals.ts";
import { scenarioOf, scenarioSchedule } from "../load/workload/scenarios.ts";
import { parseSegment, type Share, WHOLE } from "../load/workload/share.ts";
import { type ScenarioFigures, scenarioFigures, WaveStats } from "../stats/scenario-figures.ts";
import { durationFlag, intFlag, positiveFlag, rangeFlag } from "./flag-values.ts";
import { targetPrefixCaching } from "./target-prefix-caching.ts";

interface LoadFlags {
  url: string;
  model?: string;
  prompts?: string;
  scenario?: string;
  batchSize?: string;
  promptTokens?: string;
  matrix?: string;
  api: string;
  users?: string;
  spawnRate?: string;
  thinkTime: string;
  rate?: string;
  arrival: string;
  burstiness: string;
  maxConcurrency?: string;
  duration: string;
  warmup: string;
  maxTokens: string;
  stream: boolean;
  ignoreEos: boolean;
  temperature: string;
  timeout: string;
  seed: string;
  drain: boolean;
  out: string;
  apiKeyEnv?: string;
  experimentId: string;
  json: boolean;
  workers: string;
  segment?: string;
}

/** `--scenario`'s load (config/schema.ts LoadSchema `scenario`): B users, none of the free loop's flags. */
function scenarioLoad(flags: LoadFlags): { schedule: LoadSchedule; promptTokens: number } | null {
  const scenario = flags.scenario ?? "mixed";
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    throw new ConfigError(`expected ${SCENARIOS.join(", ")}, got "${scenario}"`, {
      field: "--scenario",
    });
  }
  if (scenario === "mixed") {
    const stray = flags.batchSize !== undefined ? "--batch-size" : "--prompt-tokens";
    if (flags.batchSize !== undefined || flags.promptTokens !== undefined)
      throw new ConfigError(`${stray} is a scenario setting, but no --scenario is given`, {
        field: stray,
        hint: "add --scenario prefill-only or decode-only",
      });
    return null;
  }
  const conflicts: [string, unknown][] = [
    ["--users", flags.users],
    ["--rate", flags.rate],
    ["--spawn-rate", flags.spawnRate],
    ["--max-concurrency", flags.maxConcurrency],
    ["--prompts", flags.prompts],
  ];
  for (const [flag, value] of conflicts) {
    if (value === undefined) continue;
    throw new ConfigError(`--scenario ${scenario} keeps exactly --batch-size requests together`, {
      field: flag,
      hint: flag === "--prompts" ? "its prompts are --prompt-tokens tokens each" : `remove ${flag}`,
    });
  }
  const controlled = scenario as ControlledScenario;
  if (flags.batchSize === undefined)
    throw new ConfigError(`--scenario ${scenario} needs --batch-size`, { field: "--batch-size" });
  if (controlled === "prefill-only" && flags.promptTokens === undefined)
    throw new ConfigError(`--scenario ${scenario} needs --prompt-tokens`, {
      field: "--prompt-tokens",
    });
  const batch = intFlag(flags.batchSize, "--batch-size", { limit: "users" });
  const promptTokens =
    flags.promptTokens === undefined
      ? DECODE_PROMPT_TOKENS
      : intFlag(flags.promptTokens, "--prompt-tokens", { limit: "tokens" });
  return { schedule: scenarioSchedule(controlled, batch), promptTokens };
}

function schedule(flags: LoadFlags): LoadSchedule {
  if (flags.rate !== undefined) {
    if (flags.users !== undefined) {
      throw new ConfigError("--users is for the closed loop, --rate for the open loop", {
        field: "--users",
        hint: "cap an open loop with --max-concurrency",
      });
    }
    const arrival = flags.arrival;
    if (arrival !== "constant" && arrival !== "poisson" && arrival !== "gamma") {
      throw new ConfigError(`expected constant, poisson or gamma, got "${arrival}"`, {
        field: "--arrival",
      });
    }
    return {
      mode: "open",
      rate: positiveFlag(flags.rate, "--rate", "rate"),
      arrival,
      burstiness: positiveFlag(flags.burstiness, "--burstiness", "burstiness"),
      ...(flags.maxConcurrency !== undefined
        ? {
            maxConcurrency: intFlag(flags.maxConcurrency, "--max-concurrency", {
              limit: "users",
            }),
          }
        : {}),
    };
  }
  return {
    mode: "closed",
    users: intFlag(flags.users ?? "1", "--users", { limit: "users" }),
    ...(flags.spawnRate !== undefined
      ? { spawnRate: positiveFlag(flags.spawnRate, "--spawn-rate", "spawn_rate") }
      : {}),
    thinkTimeMs: durationFlag(flags.thinkTime, "--think-time", { allowZero: true }),
  };
}

function workersFlag(value: string): "auto" | number {
  return value === "auto" ? "auto" : intFlag(value, "--workers", { limit: "workers" });
}

function segmentFlag(value: string | undefined): Share {
  if (value === undefined) return WHOLE;
  const share = parseSegment(value);
  if (typeof share === "string") throw new ConfigError(share, { field: "--segment" });
  return share;
}

/** A target on loopback likely runs on this machine: leave it one core (the simulator's one process). */
function loopbackTarget(url: string): boolean {
  try {
    return ["127.0.0.1", "localhost", "[::1]", "::1"].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

function apiKeyFrom(envName: string | undefined): string | undefined {
  if (envName === undefined) return undefined;
  const value = process.env[envName];
  if (value === undefined || value === "") {
    throw new ConfigError(`environment variable ${envName} is not set`, { field: "--api-key-env" });
  }
  return value;
}

function progressLine(c: LiveCounters): string {
  const phase = c.inWarmup ? "warm-up" : "window";
  const ttft = c.ttftP50Ms === null ? "-" : c.ttftP50Ms.toFixed(0);
  return (
    `${formatDurationMs(c.elapsedMs)} ${phase}: ${c.inFlight} in flight, ${c.completed} ok, ` +
    `${c.failed} failed, ${c.reqPerS.toFixed(1)} req/s, ${c.tokPerS.toFixed(0)} tok/s, TTFT p50 ${ttft} ms`
  );
}

function formatScenarioFigures(sched: LoadSchedule, f: ScenarioFigures): string {
  const ms = (x: number | null, digits: number) => (x === null ? "-" : x.toFixed(digits));
  const batch = sched.mode === "closed" ? sched.users : 0;
  return scenarioOf(sched) === "prefill-only"
    ? `prefill     ${ms(f.prefill_ms_per_token, 4)} ms per prompt token, wave p50 ${ms(f.prefill_wave_ms_p50, 1)} ms (waves of ${batch})`
    : `decode      step ${ms(f.decode_step_ms, 2)} ms at batch ${batch} (ITL p50)`;
}

export async function runLoadCommand(flags: LoadFlags): Promise<void> {
  const api = flags.api;
  if (api !== "chat" && api !== "completions") {
    throw new ConfigError(`expected chat or completions, got "${api}"`, { field: "--api" });
  }
  const apiKey = apiKeyFrom(flags.apiKeyEnv);
  const scenario = scenarioLoad(flags);
  const sched = scenario?.schedule ?? schedule(flags);
  const seed = intFlag(flags.seed, "--seed", { min: 0 });
  const workersSetting = workersFlag(flags.workers);
  const segment = segmentFlag(flags.segment);
  const segmented = segment.count > 1 || flags.segment !== undefined;
  const outFile = segmented
    ? join(dirname(flags.out), segmentFileNames(segment).requests)
    : flags.out;
  // Every flag is checked before the first network call: bad input is exit 2 even when the
  // server is down.
  const numbers = {
    warmupMs: durationFlag(flags.warmup, "--warmup", { allowZero: true }),
    durationMs: durationFlag(flags.duration, "--duration"),
    maxTokens: intFlag(flags.maxTokens, "--max-tokens", { limit: "tokens" }),
    temperature: rangeFlag(flags.temperature, "--temperature", 0, LIMITS.temperature.max),
    timeoutMs: durationFlag(flags.timeout, "--timeout"),
  };
  if (scenario === null && flags.prompts === undefined)
    throw new ConfigError("a prompt set is needed", {
      field: "--prompts",
      hint: "give --prompts, or --scenario with --batch-size and --prompt-tokens",
    });
  const choice = scenario
    ? { ...scenarioPromptSet(scenario.promptTokens), baseDir: process.cwd() }
    : await resolveCliPrompts(flags.prompts as string, flags.matrix);
  const model = flags.model ?? (await firstServedModel(flags.url, apiKey));
  if (scenarioOf(sched) === "prefill-only" && (await targetPrefixCaching(flags.url, apiKey))) {
    process.stderr.write(
      "vscale load: warning: the target has prefix caching on: prefill-only resends its prompts, so later waves hit the cache and prefill_ms_per_token reads low; start the server with --no-enable-prefix-caching\n",
    );
  }
  const promptSet = await preparePromptSet(choice.name, choice.spec, {
    baseDir: choice.baseDir,
    seed,
    tokenizeUrl: flags.url,
    model,
    ...(apiKey !== undefined ? { apiKey } : {}),
  });
  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write("\nvscale load: interrupted, stopping (records so far are kept)\n");
    controller.abort();
  };
  process.once("SIGINT", onSigint);
  const tty = process.stderr.isTTY === true;
  try {
    const workers = resolveWorkers(workersSetting, {
      schedule: sched,
      targetCores: loopbackTarget(flags.url) ? 1 : 0,
    });
    const result = await runLoad({
      url: flags.url,
      model,
      api,
      ...(apiKey !== undefined ? { apiKey } : {}),
      experimentId: flags.experimentId,
      promptSet,
      schedule: sched,
      ...numbers,
      stream: flags.stream,
      ignoreEos: flags.ignoreEos,
      seed,
      drain: flags.drain,
      outFile,
      workers,
      share: segment,
      signal: controller.signal,
      ...(tty
        ? { onProgress: (c: LiveCounters) => process.stderr.write(`\r\x1b[K${progressLine(c)}`) }
        : {}),
    });
    if (tty) process.stderr.write("\n");
    if (segmented) {
      const dir = dirname(outFile);
      await writeSegmentInfo(dir, flags.experimentId, segment, result);
      await completeSegmentedRun(dir);
    }
    const window = { startUs: result.windowStartUs, endUs: result.windowEndUs };
    const waves = new WaveStats(window);
    const summary = await summarizeRequestsFile(outFile, window.startUs, window.endUs, waves);
    const figures = scenarioFigures({
      scenario: scenarioOf(sched),
      batchSize: sched.mode === "closed" ? sched.users : null,
      waves,
      itlP50Ms: summary.latency.itlMs.p50,
    });
    if (flags.json) {
      console.log(
        JSON.stringify({
          ...summary,
          windowStartUs: result.windowStartUs,
          windowEndUs: result.windowEndUs,
          model,
          records: result.records,
          interrupted: result.interrupted,
          out: outFile,
          workers,
          segment,
          client: result.client,
          ...(scenario ? { scenario: figures } : {}),
        }),
      );
    } else {
      console.log(
        `model       ${model}, prompts ${promptSet.name} (${promptSet.prompts.length}${promptSet.tokensEstimated ? ", lengths estimated" : ""})`,
      );
      console.log(formatSummary(summary));
      if (scenario) console.log(formatScenarioFigures(sched, figures));
      console.log(
        `records     ${result.records} → ${outFile}${result.interrupted ? " (interrupted)" : ""}`,
      );
      if (result.client) console.log(`client      ${describeClientGuard(result.client)}`);
    }
    // The summary of what was recorded is printed; the exit code still says Ctrl-C, as the campaign's does.
    if (result.interrupted) process.exitCode = 130;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

export function registerLoad(program: Command): void {
  program
    .command("load")
    .description("run the Node load engine against an OpenAI-compatible server and print a summary")
    .requiredOption("--url <url>", "server base URL, e.g. http://127.0.0.1:8000")
    .option(
      "--prompts <file-or-set>",
      "prompt file (.txt / .jsonl), synthetic:N, synthetic:MIN-MAX, or a set of --matrix (not with --scenario)",
    )
    .option(
      "--scenario <name>",
      "mixed (default), prefill-only (waves of --batch-size prompts, max_tokens 1) or decode-only (--batch-size long streams)",
    )
    .option("--batch-size <n>", "scenario: B, the requests of a wave or the streams kept running")
    .option(
      "--prompt-tokens <n>",
      `scenario: C, every prompt's length in tokens (prefill-only: required; decode-only: ${DECODE_PROMPT_TOKENS})`,
    )
    .option("--model <name>", "model name (default: the first of GET /v1/models)")
    .option("--matrix <file>", "experiment matrix whose prompt sets --prompts may name")
    .option("--api <kind>", "chat or completions", "chat")
    .option("--users <n>", "closed loop: concurrent users (default 1)")
    .option("--spawn-rate <n>", "closed loop: users started per second (default: all at once)")
    .option("--think-time <duration>", "closed loop: pause between a user's requests", "0s")
    .option("--rate <n>", "open loop: mean requests per second")
    .option("--arrival <kind>", "open loop: constant, poisson or gamma", "poisson")
    .option("--burstiness <x>", "open loop, gamma: shape (1 = Poisson, < 1 burstier)", "1")
    .option("--max-concurrency <n>", "open loop: cap on requests in flight")
    .option("--duration <duration>", "measured window", "1m")
    .option("--warmup <duration>", "warm-up before the window (requests flagged, excluded)", "0s")
    .option("--max-tokens <n>", "max_tokens per request", "128")
    .option("--no-stream", "ask for buffered answers (no TTFT/ITL)")
    .option("--no-ignore-eos", "let the model stop at EOS")
    .option("--temperature <x>", "sampling temperature", "0")
    .option("--timeout <duration>", "per-request timeout", "2m")
    .option("--seed <n>", "seed for arrivals and prompt choice", "0")
    .option(
      "--drain",
      "let in-flight requests finish after the window instead of cancelling them",
      false,
    )
    .option("--out <file>", "per-request records (NDJSON)", "requests.ndjson")
    .option("--api-key-env <NAME>", "environment variable holding the API key")
    .option("--experiment-id <id>", "experiment id written into every record", "adhoc")
    .option("--json", "print the summary as one JSON object", false)
    .option(
      "--workers <n>",
      "load worker threads, or auto (cores, less one when the target is on loopback)",
      "auto",
    )
    .option(
      "--segment <i/N>",
      "run only segment i of N (0-based) of the users or arrivals; records go to requests.segment-i-of-N.ndjson beside --out",
    )
    .action(async (flags: LoadFlags) => {
      await runLoadCommand(flags);
    });
}
