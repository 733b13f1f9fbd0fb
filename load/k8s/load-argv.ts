/**
 * One experiment's load as `vscale load` flags: what each pod of `vscale k8s`
 * runs, so a segment on a pod is the same load the campaign runner would
 * start (load/node via campaign/load-options.ts), only its share of it.
 */
import type { Experiment } from "../../config/experiment.ts";

const ms = (value: number) => `${Math.round(value)}ms`;

export interface LoadArgvInput {
  experiment: Experiment;
  url: string;
  model: string;
  /** The matrix as the pod sees it (its prompt sets are named through it). */
  matrixFile: string;
  /** Where the records go; `--segment` puts `requests.segment-i-of-N.ndjson` beside it. */
  outFile: string;
  /** `i/N`, or a `$(VAR)/N` that Kubernetes expands. */
  segment: string;
}

export function loadArgv(input: LoadArgvInput): string[] {
  const { experiment: e } = input;
  const l = e.load;
  const argv = [
    "load",
    "--url",
    input.url,
    "--model",
    input.model,
    "--matrix",
    input.matrixFile,
    "--prompts",
    e.promptSet.name,
    "--api",
    l.api,
  ];
  if (l.mode === "closed") {
    argv.push("--users", String(l.users ?? 1), "--think-time", ms(l.think_time));
    if (l.spawn_rate !== undefined) argv.push("--spawn-rate", String(l.spawn_rate));
  } else {
    argv.push("--rate", String(l.rate ?? 1), "--arrival", l.arrival);
    argv.push("--burstiness", String(l.burstiness));
    if (l.max_concurrency !== undefined) argv.push("--max-concurrency", String(l.max_concurrency));
  }
  argv.push(
    "--duration",
    ms(l.duration),
    "--warmup",
    ms(l.warmup),
    "--max-tokens",
    String(l.max_tokens),
    "--temperature",
    String(l.temperature),
    "--timeout",
    ms(l.timeout),
    "--seed",
    String(e.seed),
    "--workers",
    String(l.workers),
    "--experiment-id",
    e.id,
    "--out",
    input.outFile,
    "--segment",
    input.segment,
  );
  if (!l.stream) argv.push("--no-stream");
  if (!l.ignore_eos) argv.push("--no-ignore-eos");
  if (l.drain) argv.push("--drain");
  // The key's NAME only: the value reaches the pod from a Secret, never this argv.
  if (l.api_key_env !== undefined) argv.push("--api-key-env", l.api_key_env);
  return argv;
}
