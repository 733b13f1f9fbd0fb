import { describe, expect, it } from "vitest";
import {
  type OpenLoopSchedule,
  openArrivalTimesMs,
  userStartOffsetMs,
} from "../../load/workload/arrivals.ts";
import { createRng } from "../../stats/rng.ts";

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] as number));
}
function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
function variance(xs: number[]): number {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
}
/** Counts of arrivals in consecutive windows of `widthMs`. */
function counts(times: number[], widthMs: number, horizonMs: number): number[] {
  const out = new Array(Math.floor(horizonMs / widthMs)).fill(0) as number[];
  for (const t of times) {
    const i = Math.floor(t / widthMs);
    if (i < out.length) out[i] = (out[i] as number) + 1;
  }
  return out;
}

const HORIZON_MS = 2_000_000; // ~40,000 arrivals at 20/s: tight enough for 5 % tolerances

describe("open-loop arrivals", () => {
  const base = { mode: "open", rate: 20, burstiness: 1 } as const;

  it("constant: exactly 1/rate apart", () => {
    const times = openArrivalTimesMs({ ...base, arrival: "constant" }, 1, 1000);
    expect(times).toEqual(Array.from({ length: 20 }, (_, i) => i * 50));
  });

  it("poisson: mean rate and index of dispersion 1 (counts), CV 1 (gaps)", () => {
    const times = openArrivalTimesMs({ ...base, arrival: "poisson" }, 42, HORIZON_MS);
    expect(times.length / (HORIZON_MS / 1000)).toBeCloseTo(20, 0);
    const g = gaps(times);
    expect(mean(g)).toBeGreaterThan(50 * 0.97);
    expect(mean(g)).toBeLessThan(50 * 1.03);
    const cv2 = variance(g) / mean(g) ** 2;
    expect(cv2).toBeGreaterThan(0.95);
    expect(cv2).toBeLessThan(1.05);
    const c = counts(times, 1000, HORIZON_MS);
    const dispersion = variance(c) / mean(c);
    expect(dispersion).toBeGreaterThan(0.9);
    expect(dispersion).toBeLessThan(1.1);
  });

  it.each([0.25, 0.5, 2, 4])("gamma burstiness %s: same mean rate, gap CV² = 1/burstiness", (b) => {
    const schedule: OpenLoopSchedule = { ...base, arrival: "gamma", burstiness: b };
    const times = openArrivalTimesMs(schedule, 7, HORIZON_MS);
    const g = gaps(times);
    expect(mean(g) / 50).toBeGreaterThan(0.96);
    expect(mean(g) / 50).toBeLessThan(1.04);
    const cv2 = variance(g) / mean(g) ** 2;
    expect(cv2 * b).toBeGreaterThan(0.92);
    expect(cv2 * b).toBeLessThan(1.08);
  });

  it("is reproducible: same seed same schedule, other seed another", () => {
    const s: OpenLoopSchedule = { ...base, arrival: "gamma", burstiness: 0.5 };
    expect(openArrivalTimesMs(s, 9, 60_000)).toEqual(openArrivalTimesMs(s, 9, 60_000));
    expect(openArrivalTimesMs(s, 9, 60_000)).not.toEqual(openArrivalTimesMs(s, 10, 60_000));
  });
});

describe("closed-loop ramp", () => {
  it("starts users spawnRate per second, or all at once", () => {
    expect([0, 1, 2, 10].map((i) => userStartOffsetMs(i, 4))).toEqual([0, 250, 500, 2500]);
    expect(userStartOffsetMs(31)).toBe(0);
  });
});

describe("rng", () => {
  it("draws uniform values with mean 1/2 and distinct streams per stream id", () => {
    const a = createRng(3, 1);
    const xs = Array.from({ length: 100_000 }, () => a.next());
    expect(mean(xs)).toBeCloseTo(0.5, 2);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(createRng(3, 1).next()).not.toBe(createRng(3, 2).next());
  });
});
