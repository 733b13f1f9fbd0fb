/**
 * The controlled batching scenarios recover the simulator's planted step
 * costs (issue 14 §1): `vscale campaign` runs prefill-only and decode-only
 * against a real `vscale sim serve` on loopback, aggregation writes the
 * scenario columns, and DuckDB reads them back from summary.parquet. The
 * expected values come from the cost model's own `stepCost()` for the batch
 * each scenario pins (sim/engine/cost-model.ts), at the prompt lengths the
 * server counted (C plus the chat template's tokens, from requests.parquet).
 *
 * Tolerances: both figures are client-side timings, which add to each step
 * the HTTP round trip and the simulator's timer lateness (about a millisecond,
 * docs/sim.md), and a wave's B requests may reach the server a poll apart, so
 * the first one runs a step of its own. Measured (alone, and beside three
 * other campaign files on two cores): prefill +5…+9 % over the model, decode
 * −0.1…+0.2 %. Allowed: prefill −3…+25 %, decode −3…+15 %.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DECODE_PROMPT_TOKENS } from "../../config/scenarios.ts";
import { stepCost } from "../../sim/engine/cost-model.ts";
import { DEFAULT_PROFILE, PROFILES } from "../../sim/engine/profiles.ts";
import { DEFAULT_SERIAL_FRACTION } from "../../sim/options.ts";
import { duckQuery } from "../aggregate/duckdb-read.ts";
import { type CliRun, runCli, tempDir, writeMatrix } from "./helpers.ts";

const B = 8;
const C = 256;
const DECODE_TOKENS = 32;
const TIME_SCALE = 0.5;

// Time scale 0.5 (half the modelled H100's speed): a prefill wave is ~190 ms and a
// decode step ~14 ms, long beside the client's and the timers' millisecond and
// beside most of the event-loop delays of a CI machine running other files.
const MATRIX = `
campaign: scen
seed: 3
server:
  kind: sim
  model: scen-model
  port: auto
  health_timeout: 30s
  start_estimate: 1s
  args: [--sim-time-scale, "${TIME_SCALE}"]
load:
  scenario: decode-only
  batch_size: ${B}
  warmup: 300ms
  duration: 1500ms
  max_tokens: ${DECODE_TOKENS}
  timeout: 10s
factors:
  enable_prefix_caching: false
include:
  - { scenario: prefill-only, prompt_tokens: ${C} }
`;

const PREFILL = `g1-tp1-prefill-only-bt${B}-pt${C}-pc0-r1`;
const DECODE = `g1-tp1-decode-only-bt${B}-pt${DECODE_PROMPT_TOKENS}-pc0-r1`;

const costs = {
  profile: PROFILES[DEFAULT_PROFILE]!,
  tensorParallelSize: 1,
  serialFraction: DEFAULT_SERIAL_FRACTION,
  timeScale: TIME_SCALE,
};

let dir: Awaited<ReturnType<typeof tempDir>>;
let results: string;
let run: CliRun;
let summary: Record<string, Record<string, unknown>>;

const agg = (file: string) => `read_parquet('${join(results, "agg", file)}')`;

/** The mean prompt length (tokens) the server counted for an experiment's requests. */
async function promptTokens(id: string): Promise<number> {
  const [row] = await duckQuery(
    `SELECT avg(prompt_tokens) AS p FROM ${agg("requests.parquet")} WHERE experiment_id = '${id}' AND ok`,
  );
  return Number(row?.p);
}

beforeAll(async () => {
  dir = await tempDir("scenarios");
  const matrix = await writeMatrix(dir.path, MATRIX);
  results = join(dir.path, "results");
  run = await runCli(["campaign", matrix, "--results", results]);
  const rows = await duckQuery(
    `SELECT experiment_id, status, scenario, batch_size, prompt_tokens, prefill_ms_per_token,
       prefill_wave_ms_p50, decode_step_ms FROM ${agg("summary.parquet")}`,
  );
  summary = Object.fromEntries(rows.map((r) => [String(r.experiment_id), r]));
}, 60_000);

afterAll(async () => {
  await dir.remove();
});

describe("controlled batching scenarios on the simulator", () => {
  it("runs both scenarios to an ok summary row each, with the scenario factors", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(summary).sort()).toEqual([DECODE, PREFILL]);
    for (const [id, scenario] of [
      [PREFILL, "prefill-only"],
      [DECODE, "decode-only"],
    ] as const) {
      const row = summary[id]!;
      expect(row.status).toBe("ok");
      expect(row.scenario).toBe(scenario);
      expect(Number(row.batch_size)).toBe(B);
      expect(Number(row.prompt_tokens)).toBe(
        scenario === "prefill-only" ? C : DECODE_PROMPT_TOKENS,
      );
    }
    // Each scenario fills only its own columns.
    expect(summary[PREFILL]!.decode_step_ms).toBeNull();
    expect(summary[DECODE]!.prefill_ms_per_token).toBeNull();
  });

  it("sends prefill-only as waves of exactly B one-token requests, one wave at a time", async () => {
    const waves = await duckQuery(
      `SELECT wave, count(*) AS n, min(start_us) AS first_send, max(end_us) AS last_end,
         max(output_tokens) AS out
       FROM ${agg("requests.parquet")} WHERE experiment_id = '${PREFILL}' AND ok
       GROUP BY wave ORDER BY wave`,
    );
    expect(waves.length).toBeGreaterThan(5);
    for (const [i, w] of waves.entries()) {
      expect(Number(w.wave)).toBe(i);
      expect(Number(w.out)).toBe(1);
      const next = waves[i + 1];
      if (next === undefined) continue;
      expect(Number(w.n)).toBe(B);
      // The barrier: wave w + 1 leaves only after wave w's last reply.
      expect(Number(next.first_send)).toBeGreaterThanOrEqual(Number(w.last_end));
    }
  });

  it("recovers the modelled prefill cost per token", async () => {
    const tokens = B * (await promptTokens(PREFILL));
    const wave = stepCost(costs, {
      prefillTokens: tokens,
      decodeSeqs: 0,
      contextTokens: tokens,
      requests: B,
    });
    const modelled = wave.totalMs / tokens;
    const measured = Number(summary[PREFILL]!.prefill_ms_per_token);
    const waveMs = Number(summary[PREFILL]!.prefill_wave_ms_p50);
    expect(measured / modelled).toBeGreaterThan(0.97);
    expect(measured / modelled).toBeLessThan(1.25);
    expect(waveMs / wave.totalMs).toBeGreaterThan(0.97);
    expect(waveMs / wave.totalMs).toBeLessThan(1.25);
  });

  it("recovers the modelled decode step time at batch B", async () => {
    // Mid-stream, a sequence attends its prompt and about half its output.
    const context = B * ((await promptTokens(DECODE)) + DECODE_TOKENS / 2);
    const modelled = stepCost(costs, {
      prefillTokens: 0,
      decodeSeqs: B,
      contextTokens: context,
      requests: B,
    }).totalMs;
    const measured = Number(summary[DECODE]!.decode_step_ms);
    expect(measured / modelled).toBeGreaterThan(0.97);
    expect(measured / modelled).toBeLessThan(1.15);
  });
});
