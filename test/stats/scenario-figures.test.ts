/** The scenario figures (stats/scenario-figures.ts) on hand-made records with known answers. */
import { describe, expect, it } from "vitest";
import { scenarioFigures, type WaveRecord, WaveStats } from "../../stats/scenario-figures.ts";

const WINDOW = { startUs: 1_000_000, endUs: 2_000_000 };

/** A wave of `b` requests sent at `startUs`, the k-th ending k ms after `endUs − (b−1) ms`. */
function wave(w: number, b: number, startUs: number, endUs: number, tokens = 100): WaveRecord[] {
  return Array.from({ length: b }, (_, k) => ({
    wave: w,
    start_us: startUs + k,
    end_us: endUs - (b - 1 - k) * 1000,
    ok: true,
    warmup: false,
    prompt_tokens: tokens,
  }));
}

function figures(records: WaveRecord[], batchSize = 4) {
  const waves = new WaveStats(WINDOW);
  for (const r of records) waves.add(r);
  return scenarioFigures({ scenario: "prefill-only", batchSize, waves, itlP50Ms: 9 });
}

describe("prefill-only figures", () => {
  it("time a wave from its first send to its last finish, per prompt token, median over waves", () => {
    const f = figures([
      ...wave(0, 4, 1_100_000, 1_140_000), // 40 ms over 400 tokens
      ...wave(1, 4, 1_140_000, 1_190_000), // 50 ms
      ...wave(2, 4, 1_190_000, 1_250_000), // 60 ms
    ]);
    expect(f.prefill_wave_ms_p50).toBeCloseTo(50, 9);
    expect(f.prefill_ms_per_token).toBeCloseTo(50 / 400, 9);
    expect(f.decode_step_ms).toBeNull();
  });

  it("count only complete waves: all ok, none in the warm-up, all ended in the window", () => {
    const failed = wave(1, 4, 1_300_000, 1_400_000).map((r, i) => ({ ...r, ok: i !== 2 }));
    const warm = wave(2, 4, 990_000, 1_500_000).map((r, i) => ({ ...r, warmup: i === 0 }));
    const cut = wave(3, 4, 1_950_000, 2_100_000);
    const short = wave(4, 3, 1_500_000, 1_600_000);
    const f = figures([...wave(0, 4, 1_100_000, 1_120_000), ...failed, ...warm, ...cut, ...short]);
    expect(f.prefill_wave_ms_p50).toBeCloseTo(20, 9);
  });

  it("are null when no wave is complete, and for other scenarios", () => {
    expect(figures([]).prefill_ms_per_token).toBeNull();
    const waves = new WaveStats(WINDOW);
    expect(
      scenarioFigures({ scenario: "decode-only", batchSize: 4, waves, itlP50Ms: 7.2 }),
    ).toEqual({
      prefill_ms_per_token: null,
      prefill_wave_ms_p50: null,
      decode_step_ms: 7.2,
    });
    const mixed = scenarioFigures({ scenario: null, batchSize: null, waves, itlP50Ms: 7.2 });
    expect(Object.values(mixed)).toEqual([null, null, null]);
  });
});
