/**
 * `vscale k8s` output, validated with tools made for it: the Job and
 * ConfigMap with kubernetes-models (the Kubernetes OpenAPI schemas), the
 * TestRun against the k6-operator CRD's fields (testrun-crd-fields.ts) with
 * Ajv, its core-type parts with kubernetes-models again.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { Job } from "kubernetes-models/batch/v1";
import { ConfigMap, EnvVar, Volume, VolumeMount } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { k8sManifests } from "../../cli/k8s.ts";
import { ExperimentInfoSchema } from "../../formats/raw-layout.ts";
import { runCli } from "../helpers/vscale-cli.ts";
import { TESTRUN_SCHEMA } from "./testrun-crd-fields.ts";

let dir: string;
const matrix = (engine: "node" | "k6", extra = "") => `
campaign: k8s-test
seed: 3
server:
  kind: external
  model: m1
  url: http://10.0.0.5:8000
load:
  engine: ${engine}
  mode: closed
  users: 6
  duration: 20s
  segments: 3
  api_key_env: TARGET_KEY
${extra}
prompts:
  short: { tokens: { dist: fixed, mean: 16 }, count: 8 }
`;
const flags = {
  image: "registry.example/vscale:1",
  workdir: "/vscale",
  claim: "results",
  apiKeySecret: "target-key",
};

beforeAll(async () => {
  // The plan checks that the key's variable is set (its value never reaches a manifest).
  process.env.TARGET_KEY = "not-a-real-key";
  dir = await mkdtemp(join(tmpdir(), "vscale-k8s-"));
  await writeFile(join(dir, "node.yaml"), matrix("node"));
  await writeFile(join(dir, "k6.yaml"), matrix("k6", "  k6_sse: true"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const EXP = "g1-tp1-r1";

describe("vscale k8s", () => {
  it("writes an Indexed Job whose pods each run one segment, valid against the Kubernetes schema", async () => {
    const [config, job, ...rest] = await k8sManifests(join(dir, "node.yaml"), EXP, flags);
    expect(rest).toEqual([]);
    expect(() => new ConfigMap(config as never).validate()).not.toThrow();
    expect(() => new Job(job as never).validate()).not.toThrow();
    const spec = (job as never as Job).spec!;
    expect(spec.completionMode).toBe("Indexed");
    expect(spec.completions).toBe(3);
    expect(spec.parallelism).toBe(3);
    const pod = spec.template.spec!;
    const container = pod.containers[0]!;
    const args = container.args!;
    expect(args[args.indexOf("--segment") + 1]).toBe("$(SEGMENT_INDEX)/3");
    expect(args[args.indexOf("--out") + 1]).toBe("/results/raw/k8s-test/g1-tp1-r1/requests.ndjson");
    expect(container.env?.[0]?.valueFrom?.fieldRef?.fieldPath).toContain("job-completion-index");
    // The key by reference only: its name, a Secret, never a value.
    expect(container.env?.[1]).toEqual({
      name: "TARGET_KEY",
      valueFrom: { secretKeyRef: { name: "target-key", key: "TARGET_KEY" } },
    });
    const info = ExperimentInfoSchema.parse(
      JSON.parse((config as never as ConfigMap).data!["experiment.json"]!),
    );
    expect(info.experiment_id).toBe(EXP);
    expect(info.server.url).toBe("http://10.0.0.5:8000");
  });

  it("the validator is real: a broken Job is refused", async () => {
    const [, job] = await k8sManifests(join(dir, "node.yaml"), EXP, flags);
    const broken = structuredClone(job) as never as Job;
    (broken.spec as { completions: unknown }).completions = "three";
    expect(() => new Job(broken).validate()).toThrow();
  });

  it("engine k6: a TestRun with parallelism N that passes the k6-operator CRD's fields", async () => {
    const objects = await k8sManifests(join(dir, "k6.yaml"), EXP, flags);
    const testRun = objects.find((o) => o.kind === "TestRun")!;
    const ajv = new Ajv({ strict: false });
    const check = ajv.compile(TESTRUN_SCHEMA);
    expect(check(testRun), JSON.stringify(check.errors)).toBe(true);
    const spec = testRun.spec as {
      parallelism: number;
      script: { localFile: string };
      runner: { env: unknown[]; volumes: unknown[]; volumeMounts: unknown[] };
    };
    expect(spec.parallelism).toBe(3);
    expect(spec.script.localFile).toBe("/vscale/load/k6/chat-sse.ts");
    for (const e of spec.runner.env) expect(() => new EnvVar(e as never).validate()).not.toThrow();
    for (const v of spec.runner.volumes)
      expect(() => new Volume(v as never).validate()).not.toThrow();
    for (const m of spec.runner.volumeMounts)
      expect(() => new VolumeMount(m as never).validate()).not.toThrow();
    // A field the CRD does not have is refused.
    expect(check({ ...testRun, spec: { ...spec, replicas: 3 } })).toBe(false);
  });

  it("bad input: an unknown experiment or a non-external server is one line and exit 2", async () => {
    const run = await runCli(["k8s", join(dir, "node.yaml"), "g1-tp2-r1"]);
    expect(run.stdout + run.stderr).not.toContain("not-a-real-key");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no experiment "g1-tp2-r1".*did you mean "g1-tp1-r1"/);
    const yaml = await runCli(["k8s", join(dir, "node.yaml"), EXP, "--api-key-secret", "s"]);
    expect(yaml.code).toBe(0);
    expect(YAML.parseAllDocuments(yaml.stdout).map((d) => d.get("kind"))).toEqual([
      "ConfigMap",
      "Job",
    ]);
    expect(yaml.stdout).not.toContain("not-a-real-key");
    await writeFile(
      join(dir, "sim.yaml"),
      matrix("node").replace(/kind: external[\s\S]*?url: \S+/, "kind: sim\n  model: m1"),
    );
    const sim = await runCli(["k8s", join(dir, "sim.yaml"), EXP]);
    expect(sim.code).toBe(2);
    expect(sim.stderr.trim().split("\n")).toHaveLength(1);
    expect(sim.stderr).toMatch(/server\.kind.*external/);
  });

  it("refuses a loopback server URL and names Kubernetes cannot take", async () => {
    await writeFile(
      join(dir, "loopback.yaml"),
      matrix("node").replace("http://10.0.0.5:8000", "http://127.0.0.1:8000"),
    );
    const loopback = await k8sManifests(join(dir, "loopback.yaml"), EXP, flags).catch(
      (e: unknown) => e,
    );
    expect(String(loopback)).toMatch(/loopback: inside a pod that is the pod itself/);
    const namespace = await k8sManifests(join(dir, "node.yaml"), EXP, {
      ...flags,
      namespace: "Bench_NS",
    }).catch((e: unknown) => e);
    expect(String(namespace)).toMatch(/expected a namespace of lower-case letters/);
    const secret = await k8sManifests(join(dir, "node.yaml"), EXP, {
      ...flags,
      apiKeySecret: "Target Key",
    }).catch((e: unknown) => e);
    expect(String(secret)).toMatch(/expected a Secret name/);
  });
});
