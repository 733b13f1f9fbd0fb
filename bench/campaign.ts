/**
 * Harness overhead per experiment: the campaign's wall time minus what is
 * not the harness's (warm-up + load window as the engine ran them, and
 * server start/stop), divided by the experiments run. Goal: ≤ 1 s.
 * A real simulator process per server group, real sockets, a temp results dir.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCampaign } from "../campaign/run-campaign.ts";
import { loadPlan } from "../config/plan.ts";
import { printBenchRows } from "./report.ts";

const MATRIX = `
campaign: bench-overhead
seed: 1
server:
  kind: sim
  model: bench-model
  port: auto
  health_timeout: 60s
  args: [--sim-time-scale, "2"]
load:
  engine: node
  mode: closed
  users: 8
  warmup: 500ms
  duration: 2s
  max_tokens: 16
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1, 2]
  users: [4, 8, 16]
`;

const dir = await mkdtemp(join(tmpdir(), "vscale-bench-campaign-"));
try {
  await writeFile(join(dir, "prompts.txt"), "Say hello.\nExplain Amdahl's law.\nWhat is a GPU?\n");
  await writeFile(join(dir, "matrix.yaml"), MATRIX);
  const plan = await loadPlan(join(dir, "matrix.yaml"));
  const result = await runCampaign(plan, { resultsDir: join(dir, "results") });
  const n = result.outcomes.length;
  const loadMs = result.outcomes.reduce((sum, o) => sum + o.loadMs, 0);
  const serverMs = result.serverTimings.reduce((sum, s) => sum + s.startMs + s.stopMs, 0);
  const overheadMs = (result.wallMs - loadMs - serverMs) / n;
  const perExperimentMs =
    result.outcomes.reduce((sum, o) => sum + (o.wallMs - o.loadMs), 0) / Math.max(1, n);
  printBenchRows([
    {
      name: "campaign: harness overhead per experiment",
      figure: overheadMs,
      unit: "ms",
      peer: 1000,
      peerName: "goal",
      note: `${n} experiments, ${result.serverTimings.length} server starts`,
    },
    {
      name: "campaign: per-experiment setup+teardown",
      figure: perExperimentMs,
      unit: "ms",
      peer: 1000,
      peerName: "goal",
      note: "experiment.json, samplers, scrapes, status.json",
    },
    {
      name: "campaign: server start to healthy (sim)",
      figure:
        result.serverTimings.reduce((sum, s) => sum + s.startMs, 0) /
        Math.max(1, result.serverTimings.length),
      unit: "ms",
      peer: null,
      note: "tsx start-up of `vscale sim serve` included",
    },
  ]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
