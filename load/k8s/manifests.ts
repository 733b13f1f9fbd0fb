/**
 * `vscale k8s`: one experiment's load spread over N machines by Kubernetes
 * itself, not by a scheduler of ours. The Node engine runs as an Indexed Job
 * (`completionMode: Indexed`): pod i gets its completion index and runs
 * `vscale load --segment i/N`, writing its records and segment info to a
 * shared volume, where `vscale aggregate` merges them exactly. The k6 engine
 * runs as a k6-operator `TestRun` with `parallelism: N`: the operator hands
 * each runner its execution segment, the runners print vscale records as
 * console lines. Pure: objects in, objects out (cli/k8s.ts writes YAML).
 */

/** Plain Kubernetes objects (validated in tests with kubernetes-models and the k6-operator CRD). */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string } } & Record<
  string,
  unknown
>;

export interface ManifestInput {
  /** DNS-1123 name stem, from the experiment id. */
  name: string;
  namespace?: string;
  segments: number;
  /** Image holding vscale (a checkout with `npm ci`) and, for k6, a k6 binary. */
  image: string;
  /** vscale's folder inside the image: argv paths are relative to it. */
  workdir: string;
  /** PersistentVolumeClaim (ReadWriteMany) that receives `results/`. */
  resultsClaim: string;
  /** The results folder of this experiment inside the claim, e.g. `raw/<campaign>/<id>`. */
  experimentDir: string;
  /** experiment.json's text, put beside the records so aggregation knows what ran. */
  experimentJson: string;
  /** `vscale load` argv for a segment (`$(SEGMENT_INDEX)` is Kubernetes' to expand). */
  loadArgv: string[];
  /** The API key: a Secret's name and the env variable the load reads it from. */
  apiKey?: { secretName: string; envName: string };
  /** k6 engine: the scenario and its VSCALE_PARAMS (promptsFile under CONFIG_MOUNT, summaryFile under K6_OUT). */
  k6?: { script: "chat.ts" | "chat-sse.ts"; paramsJson: string; promptsJson: string };
}

export const RESULTS_MOUNT = "/results";
export const CONFIG_MOUNT = "/vscale-config";
export const SEGMENT_ENV = "SEGMENT_INDEX";
/** Where each k6 runner writes its console (records) and summary: its own folder of the claim. */
export const K6_OUT = "/vscale-out";
/** The Job controller writes each pod's index here (batch/v1, Indexed completion mode). */
const COMPLETION_INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

export function dnsName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 52)
    .replace(/-+$/, "");
  return name === "" ? "vscale" : name;
}

/** `$(SEGMENT_INDEX)/N`: the segment flag each pod's argv carries. */
export function segmentArg(segments: number): string {
  return `$(${SEGMENT_ENV})/${segments}`;
}

function meta(input: ManifestInput, name: string): K8sObject["metadata"] {
  return {
    name,
    ...(input.namespace ? { namespace: input.namespace } : {}),
    labels: { "app.kubernetes.io/name": "vscale", "vscale/experiment": input.name },
  } as K8sObject["metadata"];
}

function apiKeyEnv(input: ManifestInput) {
  return input.apiKey
    ? [
        {
          name: input.apiKey.envName,
          valueFrom: { secretKeyRef: { name: input.apiKey.secretName, key: input.apiKey.envName } },
        },
      ]
    : [];
}

function volumes(input: ManifestInput, configName: string) {
  return [
    { name: "results", persistentVolumeClaim: { claimName: input.resultsClaim } },
    { name: "config", configMap: { name: configName } },
  ];
}

const mounts = [
  { name: "results", mountPath: RESULTS_MOUNT },
  { name: "config", mountPath: CONFIG_MOUNT, readOnly: true },
];

export function buildManifests(input: ManifestInput): K8sObject[] {
  const configName = `${input.name}-config`;
  const dir = `${RESULTS_MOUNT}/${input.experimentDir}`;
  const config: K8sObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(input, configName),
    data: {
      "experiment.json": input.experimentJson,
      ...(input.k6 ? { "prompts.json": input.k6.promptsJson } : {}),
    },
  };
  // Each pod puts experiment.json in place first (the same file from every pod).
  const placeInfo = {
    name: "experiment-info",
    image: input.image,
    command: ["sh", "-c", 'mkdir -p "$0" && cp /vscale-config/experiment.json "$0/"', dir],
    volumeMounts: mounts,
  };
  const job: K8sObject = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta(input, `${input.name}-load`),
    spec: {
      completionMode: "Indexed",
      completions: input.segments,
      parallelism: input.segments,
      // A segment that failed is not retried: its records would be a second, overlapping run.
      backoffLimit: 0,
      template: {
        metadata: { labels: { "vscale/experiment": input.name } },
        spec: {
          restartPolicy: "Never",
          initContainers: [placeInfo],
          containers: [
            {
              name: "load",
              image: input.image,
              workingDir: input.workdir,
              command: ["node", "bin/vscale.mjs"],
              args: input.loadArgv,
              env: [
                { name: SEGMENT_ENV, valueFrom: { fieldRef: { fieldPath: COMPLETION_INDEX } } },
                ...apiKeyEnv(input),
              ],
              volumeMounts: mounts,
            },
          ],
          volumes: volumes(input, configName),
        },
      },
    },
  };
  const out = [config, job];
  if (input.k6) out.push(testRun(input, configName, input.k6));
  return out;
}

function testRun(
  input: ManifestInput,
  configName: string,
  k6: NonNullable<ManifestInput["k6"]>,
): K8sObject {
  return {
    apiVersion: "k6.io/v1alpha1",
    kind: "TestRun",
    metadata: meta(input, `${input.name}-k6`),
    spec: {
      parallelism: input.segments,
      // One runner per node: the point is more machines.
      separate: true,
      script: { localFile: `${input.workdir}/load/k6/${k6.script}` },
      // Records are console lines (load/k6/scenario.ts emitRecord()), raw, one file per runner pod.
      arguments: `--log-format=raw --console-output=${K6_OUT}/console.log`,
      runner: {
        image: input.image,
        env: [
          { name: "VSCALE_PARAMS", value: k6.paramsJson },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          ...apiKeyEnv(input).map((e) => ({ ...e, name: "VSCALE_API_KEY" })),
        ],
        volumes: volumes(input, configName),
        volumeMounts: [
          ...mounts,
          // Each runner's console in its own folder, so runners never write one file.
          {
            name: "results",
            mountPath: K6_OUT,
            subPathExpr: `${input.experimentDir}/k6/$(POD_NAME)`,
          },
        ],
      },
    },
  };
}
