/**
 * Segments end to end: the Indexed Job's pod argv from `vscale k8s`, run as
 * two local processes against the simulator (segment 0/2 and 1/2 at once),
 * merged by `vscale aggregate`, equals one run of the whole (segment 0/1):
 * the same requests (ids, count), the same schedule and the same prompts.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { k8sManifests } from "../../cli/k8s.ts";
import { SegmentInfoSchema, StatusSchema } from "../../formats/raw-layout.ts";
import { RequestRecordSchema } from "../../formats/request-record.ts";
import { type SimServer, startSimServer } from "../../sim/server.ts";
import { windowFigures } from "../../stats/request-window.ts";
import { readParquetRows } from "../aggregate/duckdb-read.ts";
import { runCli } from "../helpers/vscale-cli.ts";

let dir: string;
let sim: SimServer;
const EXP = "g1-tp1-r1";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-segments-"));
  sim = await startSimServer({ model: "sim-model", simTimeScale: 20 });
  await writeFile(
    join(dir, "matrix.yaml"),
    `campaign: seg
seed: 9
server: { kind: external, model: sim-model, url: "${sim.url}" }
load:
  mode: open
  arrival: poisson
  rate: 30
  duration: 1500ms
  max_tokens: 6
  segments: 2
prompts:
  mixed: { tokens: { dist: uniform, min: 4, max: 60 }, count: 32 }
`,
  );
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

/** The Job's pod: its init container's experiment.json, then its argv with the index filled in. */
async function runPods(results: string, segments: number) {
  // The pods run here as processes: loopback reaches the server (a rehearsal).
  const objects = await k8sManifests(
    join(dir, "matrix.yaml"),
    EXP,
    { image: "vscale:test", workdir: "/vscale", claim: "results", segments: String(segments) },
    { rehearsal: true },
  );
  const config = objects[0] as unknown as { data: Record<string, string> };
  const job = objects[1] as unknown as {
    spec: { template: { spec: { containers: { args: string[] }[] } } };
  };
  const expDir = join(results, "raw", "seg", EXP);
  await mkdir(expDir, { recursive: true });
  await writeFile(join(expDir, "experiment.json"), config.data["experiment.json"]!);
  const args = job.spec.template.spec.containers[0]!.args.map((a) =>
    a.replace("/results", results),
  );
  const runs = await Promise.all(
    Array.from({ length: segments }, (_, i) =>
      runCli(args.map((a) => a.replace("$(SEGMENT_INDEX)", String(i)))),
    ),
  );
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
  const records = [];
  const starts = new Map<string, number>();
  // Each segment's records by its own window (the window rule of stats/request-window.ts).
  let okInWindows = 0;
  for (let i = 0; i < segments; i++) {
    const info = SegmentInfoSchema.parse(
      JSON.parse(await readFile(join(expDir, `segment-${i}-of-${segments}.json`), "utf8")),
    );
    const text = await readFile(
      join(expDir, `requests.segment-${i}-of-${segments}.ndjson`),
      "utf8",
    );
    const segment = text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => RequestRecordSchema.parse(JSON.parse(l)));
    for (const r of segment) {
      records.push(r);
      starts.set(r.request_id, (r.start_us - info.warmup_start_us) / 1000);
    }
    okInWindows += windowFigures(segment, {
      startUs: info.window_start_us,
      endUs: info.window_end_us,
    }).requestsOk;
  }
  const status = StatusSchema.parse(
    JSON.parse(await readFile(join(expDir, "status.json"), "utf8")),
  );
  const agg = await runCli(["aggregate", "--results", results]);
  expect(agg.code, agg.stderr).toBe(0);
  const [summary] = await readParquetRows(join(results, "agg", "summary.parquet"));
  const rows = await readParquetRows(join(results, "agg", "requests.parquet"));
  return { records, starts, status, summary: summary!, rows, okInWindows };
}

describe("segments", () => {
  it("two segments on two processes, merged, are one run of the whole", async () => {
    const whole = await runPods(join(dir, "whole"), 1);
    const split = await runPods(join(dir, "split"), 2);
    expect(whole.status.status).toBe("ok");
    expect(split.status.status).toBe("ok");
    const ids = (rs: { request_id: string }[]) => rs.map((r) => r.request_id).sort();
    expect(whole.records.length).toBeGreaterThan(20);
    expect(ids(split.records)).toEqual(ids(whole.records));
    expect(split.status.requests).toBe(whole.status.requests);
    // Prompts: the same prompt (its token count, from the server's usage) for the same
    // request, wherever both runs got an answer (a cut request has no usage).
    const prompts = (rs: { request_id: string; ok: boolean; prompt_tokens: number | null }[]) =>
      new Map(rs.filter((r) => r.ok).map((r) => [r.request_id, r.prompt_tokens]));
    const a = prompts(whole.records);
    const b = prompts(split.records);
    const both = [...a.keys()].filter((id) => b.has(id));
    expect(both.length).toBeGreaterThan(whole.records.length * 0.8);
    for (const id of both) expect(b.get(id), id).toBe(a.get(id));
    expect(new Set(both.map((id) => a.get(id))).size).toBeGreaterThan(3);
    // Schedule: each arrival went out at the same offset from its run's start.
    // (Sends run late on a busy machine: the median offset is the schedule's, the tail is load.)
    const offsets = [...whole.starts].map(([id, at]) => Math.abs(split.starts.get(id)! - at));
    offsets.sort((x, y) => x - y);
    expect(offsets[Math.floor(offsets.length / 2)]!).toBeLessThan(25);
    // Aggregation merged every raw record of both segments.
    expect(split.rows.length).toBe(whole.rows.length);
    expect(new Set(split.rows.map((r) => r.request_id)).size).toBe(whole.rows.length);
    // Each segment's records counted by that segment's window; how many finish in it is timing.
    expect(Number(split.summary.requests_ok)).toBe(split.okInWindows);
    expect(Number(whole.summary.requests_ok)).toBe(whole.okInWindows);
    expect(Number(split.summary.window_s)).toBeCloseTo(1.5, 1);
    expect(split.summary.client_workers).not.toBeNull();
  });
});
