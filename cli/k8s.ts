/**
 * `vscale k8s <matrix> <experiment-id>`: the Kubernetes objects that run one
 * experiment's load on N machines (load/k8s/manifests.ts): a ConfigMap, an
 * Indexed Job (Node engine) and, for `engine: k6`, a k6-operator TestRun.
 * Writes YAML for `kubectl apply -f`; runs nothing itself.
 */
import { relative, resolve } from "node:path";
import type { Command } from "commander";
import YAML from "yaml";
import { loadRunOptions } from "../campaign/load-options.ts";
import { buildExperimentInfo, promptFacts } from "../campaign/raw-writer.ts";
import { writeFileAtomic } from "../common/atomic-write.ts";
import { ConfigError } from "../common/errors.ts";
import { didYouMean } from "../config/suggest.ts";
import { k6Params } from "../load/k6/runner.ts";
import { collectK6Runners } from "../load/k8s/collect-k6.ts";
import { loadArgv } from "../load/k8s/load-argv.ts";
import {
  buildManifests,
  CONFIG_MOUNT,
  dnsName,
  K6_OUT,
  RESULTS_MOUNT,
  segmentArg,
} from "../load/k8s/manifests.ts";
import { preparePromptSet } from "../load/node/prompt-files.ts";
import { intFlag } from "./flag-values.ts";
import { loadCheckedPlan } from "./plan.ts";

interface K8sFlags {
  image: string;
  workdir: string;
  claim: string;
  namespace?: string;
  segments?: string;
  apiKeySecret?: string;
  out?: string;
}

/** Kubernetes names: a namespace is an RFC 1123 label, a Secret an RFC 1123 subdomain. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkNames(flags: K8sFlags): void {
  if (flags.namespace !== undefined && !DNS_LABEL.test(flags.namespace))
    throw new ConfigError(
      `expected a namespace of lower-case letters, digits and '-' (at most 63, starting and ending with a letter or digit), got "${flags.namespace}"`,
      { field: "--namespace" },
    );
  if (flags.apiKeySecret !== undefined && !DNS_SUBDOMAIN.test(flags.apiKeySecret))
    throw new ConfigError(
      `expected a Secret name of lower-case letters, digits, '-' and '.', got "${flags.apiKeySecret}"`,
      { field: "--api-key-secret" },
    );
}

/** Inside a pod, loopback is the pod itself: the load would never reach the server. */
function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host) || host === "0.0.0.0";
}

export async function k8sManifests(
  matrix: string,
  experimentId: string,
  flags: K8sFlags,
  /**
   * `rehearsal`: the pods' commands will run as processes on this machine (a rehearsal of
   * the segments without a cluster), where loopback does reach the server.
   */
  opts: { rehearsal?: boolean } = {},
) {
  checkNames(flags);
  const plan = await loadCheckedPlan(matrix);
  const experiment = plan.experiments.find((e) => e.id === experimentId);
  if (!experiment) {
    const near = didYouMean(
      experimentId,
      plan.experiments.map((e) => e.id),
    );
    throw new ConfigError(`no experiment "${experimentId}" in this matrix`, {
      file: matrix,
      field: "experiment-id",
      hint: near ?? "`vscale plan` lists them",
    });
  }
  const server = plan.matrix.server;
  if (server.kind !== "external" || server.url === undefined) {
    throw new ConfigError("vscale k8s drives a server that is already running", {
      file: matrix,
      field: "server.kind",
      hint: "set server.kind: external and server.url to an address the pods can reach",
    });
  }
  if (!opts.rehearsal && isLoopback(server.url)) {
    throw new ConfigError(
      `server.url ${server.url} is loopback: inside a pod that is the pod itself, not the server`,
      {
        file: matrix,
        field: "server.url",
        hint: "use the server's Service name or an address the pods can reach",
      },
    );
  }
  const segments =
    flags.segments === undefined
      ? experiment.load.segments
      : intFlag(flags.segments, "--segments", { limit: "segments" });
  const apiKeyEnv = experiment.load.api_key_env;
  if (apiKeyEnv !== undefined && flags.apiKeySecret === undefined)
    throw new ConfigError(`load.api_key_env is ${apiKeyEnv}: name the Secret that holds it`, {
      field: "--api-key-secret",
      hint: `kubectl create secret generic <name> --from-literal=${apiKeyEnv}=…`,
    });
  // No tokenizer call from here: a synthetic set's lengths are estimates (recorded as such).
  const promptSet = await preparePromptSet(experiment.promptSet.name, experiment.promptSet.spec, {
    baseDir: plan.baseDir,
    seed: experiment.seed,
    model: server.model,
  });
  const info = buildExperimentInfo({
    plan,
    experiment,
    server: {
      kind: "external",
      model: server.model,
      argvMasked: [],
      envNames: [],
      url: server.url,
      version: null,
    },
    prompts: promptFacts(promptSet),
    gpus: null,
    gpuNote: "load run by `vscale k8s`: no GPU sampling on the load pods",
    gpusInUse: {
      indices: server.gpu_indices ?? null,
      source: server.gpu_indices ? "server.gpu_indices" : "host-wide",
      note: null,
    },
    fingerprint: undefined,
    startedAt: new Date().toISOString(),
  });
  const experimentDir = `raw/${plan.campaign}/${experiment.id}`;
  const matrixInImage = relative(process.cwd(), resolve(matrix));
  const k6 = experiment.load.engine === "k6";
  const options = loadRunOptions({
    experiment,
    url: server.url,
    model: server.model,
    promptSet,
    outFile: `${K6_OUT}/requests.ndjson`,
  });
  return buildManifests({
    name: dnsName(experiment.id),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    segments,
    image: flags.image,
    workdir: flags.workdir,
    resultsClaim: flags.claim,
    experimentDir,
    experimentJson: `${JSON.stringify(info, null, 2)}\n`,
    loadArgv: loadArgv({
      experiment,
      url: server.url,
      model: server.model,
      matrixFile: matrixInImage,
      outFile: `${RESULTS_MOUNT}/${experimentDir}/requests.ndjson`,
      segment: segmentArg(segments),
    }),
    ...(apiKeyEnv !== undefined && flags.apiKeySecret !== undefined
      ? { apiKey: { secretName: flags.apiKeySecret, envName: apiKeyEnv } }
      : {}),
    ...(k6
      ? {
          k6: {
            script: experiment.load.k6_sse ? ("chat-sse.ts" as const) : ("chat.ts" as const),
            paramsJson: JSON.stringify(
              k6Params(
                { ...options, summaryFile: `${K6_OUT}/k6-summary.json` },
                `${CONFIG_MOUNT}/prompts.json`,
              ),
            ),
            promptsJson: JSON.stringify(promptSet),
          },
        }
      : {}),
  });
}

export function registerK8s(program: Command): void {
  program
    .command("k8s")
    .description(
      "write the Kubernetes objects that run one experiment's load in segments on N pods (Indexed Job; k6-operator TestRun for engine k6)",
    )
    .argument(
      "<matrix>",
      "experiment matrix (its path inside the image is the same, relative to --workdir)",
    )
    .argument("<experiment-id>", "which experiment (`vscale plan` lists them)")
    .option("--image <image>", "image with vscale (and k6 for engine k6)", "vscale:latest")
    .option("--workdir <dir>", "vscale's folder inside the image", "/vscale")
    .option(
      "--claim <name>",
      "PersistentVolumeClaim (ReadWriteMany) mounted at /results",
      "vscale-results",
    )
    .option("--namespace <ns>", "namespace of every object")
    .option("--segments <n>", "segments (pods); default load.segments")
    .option("--api-key-secret <name>", "Secret holding the API key under load.api_key_env's name")
    .option("--out <file>", "write the YAML here instead of stdout")
    .action(async (matrix: string, experimentId: string, flags: K8sFlags) => {
      const objects = await k8sManifests(matrix, experimentId, flags);
      const text = objects.map((o) => YAML.stringify(o)).join("---\n");
      if (flags.out) await writeFileAtomic(flags.out, text);
      else process.stdout.write(text);
    });
}

export function registerK8sCollect(program: Command): void {
  program
    .command("k8s-collect")
    .description(
      "turn a k6-operator TestRun's runner consoles (<experiment>/k6/<pod>/console.log) into segment record files for `vscale aggregate`",
    )
    .argument("<experiment-dir>", "results/raw/<campaign>/<experiment-id> on the results volume")
    .action(async (experimentDir: string) => {
      const result = await collectK6Runners(experimentDir);
      for (const w of result.warnings) console.error(`vscale: ${w}`);
      console.log(
        `${result.segments} runner(s), ${result.records} records; status ${result.status?.status ?? "incomplete"}`,
      );
    });
}
