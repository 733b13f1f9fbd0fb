/**
 * The figures of the controlled batching scenarios (load/workload/scenarios.ts),
 * the one definition `summary.parquet` (analysis/aggregate/scenario-figures.ts)
 * and `vscale load` share:
 *
 * - prefill-only, per wave: duration = first send → last finish of its B
 *   requests; per token = duration / the wave's prompt tokens (B × C, plus
 *   the chat template's tokens where the server counted them: usage); the
 *   column is the median over the window's complete waves.
 * - decode-only: the step time at batch B = the median of every inter-token
 *   gap of the window's streams (the pooled ITL p50 of stats/request-window.ts):
 *   each gap is one decode step, and the rare prefill step of a replaced
 *   stream sits in the tail, not at the median.
 *
 * A wave counts only when it is complete: every request ok, none sent in the
 * warm-up, every one finished inside the window (the window rule). A wave cut
 * by the window's end or holding a failure would time something else.
 */
import { quantileSorted } from "./quantile.ts";
import { inWindow, type Window } from "./request-window.ts";

/** The record fields a wave reads. */
export interface WaveRecord {
  wave?: number | null | undefined;
  start_us: number;
  end_us: number;
  ok: boolean;
  warmup: boolean;
  prompt_tokens: number | null;
}

interface WaveAcc {
  startUs: number;
  endUs: number;
  tokens: number;
  requests: number;
  complete: boolean;
}

export interface ScenarioFigures {
  prefill_ms_per_token: number | null;
  prefill_wave_ms_p50: number | null;
  decode_step_ms: number | null;
}

export const NO_SCENARIO_FIGURES: ScenarioFigures = {
  prefill_ms_per_token: null,
  prefill_wave_ms_p50: null,
  decode_step_ms: null,
};

/** Collects prefill-only waves from records, in any order. */
export class WaveStats {
  private readonly waves = new Map<number, WaveAcc>();

  constructor(private readonly window: Window | null) {}

  add(r: WaveRecord): void {
    if (r.wave === undefined || r.wave === null) return;
    let w = this.waves.get(r.wave);
    if (!w) {
      w = { startUs: r.start_us, endUs: r.end_us, tokens: 0, requests: 0, complete: true };
      this.waves.set(r.wave, w);
    }
    w.startUs = Math.min(w.startUs, r.start_us);
    w.endUs = Math.max(w.endUs, r.end_us);
    w.requests++;
    w.tokens += r.prompt_tokens ?? 0;
    if (!r.ok || r.warmup || r.prompt_tokens === null || !inWindow(r, this.window))
      w.complete = false;
  }

  /** Complete waves of `batchSize` requests: duration (ms) and ms per prompt token, in wave order. */
  completeWaves(batchSize: number): { waveMs: number; msPerToken: number }[] {
    return [...this.waves.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([, w]) => {
        if (!w.complete || w.requests !== batchSize || w.tokens === 0) return [];
        const waveMs = (w.endUs - w.startUs) / 1000;
        return [{ waveMs, msPerToken: waveMs / w.tokens }];
      });
  }
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** The scenario columns of one experiment; null (never 0) where the scenario does not define them. */
export function scenarioFigures(args: {
  scenario: string | null;
  batchSize: number | null;
  waves: WaveStats;
  /** The window's pooled inter-token latency p50 (stats/request-window.ts `itlMs`). */
  itlP50Ms: number | null;
}): ScenarioFigures {
  if (args.scenario === "prefill-only" && args.batchSize !== null) {
    const waves = args.waves.completeWaves(args.batchSize);
    return {
      ...NO_SCENARIO_FIGURES,
      prefill_ms_per_token: median(waves.map((w) => w.msPerToken)),
      prefill_wave_ms_p50: median(waves.map((w) => w.waveMs)),
    };
  }
  if (args.scenario === "decode-only")
    return { ...NO_SCENARIO_FIGURES, decode_step_ms: args.itlP50Ms };
  return NO_SCENARIO_FIGURES;
}
