/**
 * The fields of k6-operator's `TestRun` that `vscale k8s` may write, as a
 * JSON Schema: transcribed from the CRD's openAPIV3Schema in
 * grafana/k6-operator `config/crd/bases/k6.io_testruns.yaml` (v1alpha1, as of
 * helm-k6-operator-4.6.0 / operator v1.6.0). Only the fields we use are
 * spelled out; every other CRD field is allowed by name and left unchecked,
 * and a field the CRD does not have is refused. Kubernetes core types inside
 * (env, volumes, volumeMounts) are checked with kubernetes-models.
 */
export const TESTRUN_SPEC_FIELDS = [
  "args",
  "arguments",
  "cleanup",
  "initializer",
  "parallelism",
  "paused",
  "ports",
  "quiet",
  "runner",
  "script",
  "scuttle",
  "separate",
  "starter",
  "testRunId",
  "token",
] as const;

export const TESTRUN_RUNNER_FIELDS = [
  "affinity",
  "automountServiceAccountToken",
  "containerSecurityContext",
  "disabled",
  "env",
  "envFrom",
  "image",
  "imagePullPolicy",
  "imagePullSecrets",
  "initContainers",
  "livenessProbe",
  "metadata",
  "nodeSelector",
  "priorityClassName",
  "readinessProbe",
  "resources",
  "schedulerName",
  "securityContext",
  "serviceAccountName",
  "tolerations",
  "topologySpreadConstraints",
  "volumeMounts",
  "volumes",
] as const;

const anyOf = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, {}]));

export const TESTRUN_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { const: "k6.io/v1alpha1" },
    kind: { const: "TestRun" },
    metadata: { type: "object", required: ["name"] },
    spec: {
      type: "object",
      required: ["parallelism", "script"],
      additionalProperties: false,
      properties: {
        ...anyOf(TESTRUN_SPEC_FIELDS),
        parallelism: { type: "integer", minimum: -2147483648, maximum: 2147483647 },
        arguments: { type: "string" },
        separate: { type: "boolean" },
        cleanup: { enum: ["post"] },
        script: {
          type: "object",
          additionalProperties: false,
          properties: {
            configMap: {
              type: "object",
              required: ["name"],
              properties: { name: { type: "string" }, file: { type: "string" } },
            },
            localFile: { type: "string" },
            volumeClaim: {
              type: "object",
              required: ["name"],
              properties: {
                name: { type: "string" },
                file: { type: "string" },
                readOnly: { type: "boolean" },
              },
            },
          },
        },
        runner: {
          type: "object",
          additionalProperties: false,
          properties: {
            ...anyOf(TESTRUN_RUNNER_FIELDS),
            image: { type: "string" },
            env: { type: "array", items: { type: "object", required: ["name"] } },
            volumes: { type: "array", items: { type: "object", required: ["name"] } },
            volumeMounts: {
              type: "array",
              items: { type: "object", required: ["mountPath", "name"] },
            },
          },
        },
      },
    },
  },
} as const;
