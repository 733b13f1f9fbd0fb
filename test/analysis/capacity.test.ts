/**
 * Capacity at an SLO on a planted latency curve: an M/M/1 queue's mean
 * sojourn time 1/(μ − λ) meets a limit L up to λ* = μ − 1/L exactly, so the
 * interpolated capacity must land near λ*, a range that missed it must be
 * labelled a bound (with no interval), and the interval over repeats must
 * cover the truth.
 */
import { describe, expect, it } from "vitest";
import { groupCapacity, type RatePoint, sweepCapacity } from "../../analysis/capacity/capacity.ts";
import { capacityText } from "../../analysis/capacity/index.ts";
import { sweepText } from "../../analysis/capacity/table.ts";
import { createRng } from "../../stats/rng.ts";

const MU = 20; // req/s the planted server completes
const LIMIT_MS = 500; // λ* = 20 − 1/0.5 = 18 req/s
const TRUTH = MU - 1000 / LIMIT_MS;
const sojournMs = (rate: number) => 1000 / (MU - rate);

const sweep = (rates: number[], noise = 0, seed = 1): RatePoint[] => {
  const rng = createRng(seed, 7);
  return rates.map((rate, i) => ({
    rate,
    values: { e2e_ms_mean: sojournMs(rate) * (1 + noise * rng.normal()), ttft_ms_p99: 10 },
    experimentId: `sw${i}`,
  }));
};
const SLO = { e2e_ms_mean: LIMIT_MS, ttft_ms_p99: 100 };

describe("capacity at an SLO", () => {
  it("interpolates between the last rate that meets the SLO and the first that misses it", () => {
    const c = sweepCapacity(sweep([4, 8, 12, 16, 19]), SLO);
    expect(c.bound).toBeNull();
    expect(c.kneeRate).toBe(19);
    expect(c.limitedBy).toBe("e2e_ms_mean");
    // Linear between 16 (250 ms) and 19 (1000 ms): 16 + 3 · (1 − 0.5) / (2 − 0.5) = 17.
    expect(c.capacity).toBeCloseTo(17, 6);
    expect(Math.abs((c.capacity as number) / TRUTH - 1)).toBeLessThan(0.06);
    // Finer rates near the knee: closer to the truth.
    const fine = sweepCapacity(sweep([16, 17, 17.5, 18.5, 19]), SLO);
    expect(Math.abs((fine.capacity as number) - TRUTH)).toBeLessThan(0.2);
  });

  it("labels a range that did not reach the knee, or started past it, as a bound", () => {
    // Every rate met the SLO: the capacity (18) is only known to be at least the highest rate.
    const lower = sweepCapacity(sweep([2, 4, 8]), SLO);
    expect(lower).toMatchObject({ capacity: 8, bound: "lower", kneeRate: null });
    expect(sweepText(lower)).toBe("≥ 8.00 req/s (every rate met the SLO)");
    // None did: below the lowest rate.
    const upper = sweepCapacity(sweep([18.5, 19]), SLO);
    expect(upper).toMatchObject({ capacity: 18.5, bound: "upper", kneeRate: 18.5 });
    expect(sweepText(upper)).toBe("< 18.50 req/s (no rate met the SLO)");
  });

  it("a group with a bound in any repeat is a bound, with no interval", () => {
    const reached = sweep([14, 16, 17, 18, 18.5, 19]);
    const short = sweep([2, 4, 8]);
    const mixed = groupCapacity(
      new Map([
        [1, reached],
        [2, short],
      ]),
      SLO,
    );
    // The mean of 18 (crossed) and "≥ 8" is only "≥ 13": labelled so, with no t-interval around it.
    expect(mixed.bound).toBe("lower");
    expect(mixed.ciLow).toBeNull();
    expect(capacityText(mixed)).toBe("≥ 13.00 req/s (every rate met the SLO; 2 repeats)");
    const disagree = groupCapacity(
      new Map([
        [1, sweep([18.5, 19])],
        [2, short],
      ]),
      SLO,
    );
    expect(disagree).toMatchObject({ capacity: null, bound: null, disagree: true });
  });

  it("a missing figure counts as missing the SLO and is reported; the capacity is a lower bound", () => {
    const points = sweep([4, 8, 12]);
    points[2] = { ...points[2]!, values: { e2e_ms_mean: null, ttft_ms_p99: 10 } };
    const c = sweepCapacity(points, SLO);
    expect(c.missing).toEqual(["sw2"]);
    expect(c.kneeRate).toBe(12);
    expect(c).toMatchObject({ capacity: 8, bound: "lower" });
  });

  it("repeats give a 95% interval that covers the planted capacity", () => {
    const rates = [14, 16, 17, 18, 18.5, 19];
    const byRepeat = new Map([1, 2, 3, 4, 5].map((r) => [r, sweep(rates, 0.05, r)]));
    const g = groupCapacity(byRepeat, SLO);
    expect(g.repeats).toHaveLength(5);
    expect(g.bound).toBeNull();
    expect(g.ciLow).not.toBeNull();
    expect(g.ciLow!).toBeLessThan(TRUTH + 0.3);
    expect(g.ciHigh!).toBeGreaterThan(TRUTH - 0.3);
    expect(g.ciHigh! - g.ciLow!).toBeLessThan(2);
    expect(g.ciLow!).toBeLessThan(g.capacity!);
    expect(g.capacity!).toBeLessThan(g.ciHigh!);
  });
});
