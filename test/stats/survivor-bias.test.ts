/**
 * Planted truth for the latency window rule: a closed loop whose requests
 * last 0.2–8 s (uniform, as 20–800 output tokens at 10 ms a token), measured
 * in a 5 s and a 40 s window. Counting only requests that ended inside the
 * window keeps the short ones; following every request sent in the window to
 * its end recovers the planted distribution in either window.
 */
import { describe, expect, it } from "vitest";
import { type RequestRecord, RequestRecordSchema } from "../../formats/request-record.ts";
import { quantileSorted } from "../../stats/quantile.ts";
import { type Window, windowFigures } from "../../stats/request-window.ts";
import { createRng } from "../../stats/rng.ts";
import { syntheticRequest } from "../aggregate/synthetic-campaign.ts";

const USERS = 400;
const WARMUP_US = 10_000_000;
const E2E_MS = { min: 200, max: 8000 };
/** The planted quantiles of uniform(200, 8000) ms. */
const TRUE_P50 = 4100;
const TRUE_P90 = 7220;

type Ending = "cool-down" | "cut";

/**
 * The records a closed loop of USERS users writes: `cut` ends the run at the
 * window's close, cancelling what is in flight (the engine before the
 * cool-down); `cool-down` keeps every user sending until the last request
 * sent in the window has ended, then cancels the cool-down's own requests.
 */
function closedLoop(
  windowUs: number,
  ending: Ending,
  seed = 7,
): { records: RequestRecord[]; window: Window } {
  const window = { startUs: WARMUP_US, endUs: WARMUP_US + windowUs };
  const planned: { user: number; start: number; end: number }[] = [];
  for (let user = 0; user < USERS; user++) {
    const rng = createRng(seed, user);
    // Users start over the first second, then send back to back.
    let t = Math.floor(rng.next() * 1_000_000);
    while (t < window.endUs) {
      const e2e = Math.round((E2E_MS.min + rng.next() * (E2E_MS.max - E2E_MS.min)) * 1000);
      planned.push({ user, start: t, end: t + e2e });
      t += e2e;
    }
    // What the user would send during a cool-down.
    const e2e = Math.round((E2E_MS.min + rng.next() * (E2E_MS.max - E2E_MS.min)) * 1000);
    planned.push({ user, start: t, end: t + e2e });
  }
  const sentInWindow = planned.filter((p) => p.start < window.endUs);
  const stopUs = ending === "cut" ? window.endUs : Math.max(...sentInWindow.map((p) => p.end));
  const records = planned
    .filter((p) => p.start < stopUs)
    .map((p, i) => {
      const cutHere = p.end > stopUs;
      const end = cutHere ? stopUs : p.end;
      const e2eMs = (end - p.start) / 1000;
      return RequestRecordSchema.parse(
        syntheticRequest({
          request_id: `u${p.user}-${i}`,
          start_us: p.start,
          end_us: end,
          e2e_ms: e2eMs,
          ttft_ms: cutHere ? null : 50,
          tpot_ms: cutHere ? null : 10,
          ok: !cutHere,
          error_kind: cutHere ? "cancelled" : null,
          warmup: p.start < window.startUs,
        }),
      );
    });
  return { records, window };
}

/** What the rule before this one printed: ok requests sent after warm-up that ended in the window. */
function survivorsOnly(records: RequestRecord[], window: Window): number[] {
  return records
    .filter((r) => r.ok && !r.warmup && r.end_us >= window.startUs && r.end_us < window.endUs)
    .map((r) => r.e2e_ms as number)
    .sort((a, b) => a - b);
}

const within = (x: number | null, truth: number, tol: number) =>
  x !== null && Math.abs(x - truth) / truth <= tol;

describe("survivor bias: a 5 s and a 40 s window of one closed loop", () => {
  it("with a cool-down, both windows give the planted p50 and p90 within 10%", () => {
    const short = closedLoop(5_000_000, "cool-down");
    const long = closedLoop(40_000_000, "cool-down");
    const s = windowFigures(short.records, short.window).latency.e2eMs;
    const l = windowFigures(long.records, long.window).latency.e2eMs;
    expect(s.flags).toEqual([]);
    expect(s.requests).toBeGreaterThan(200);
    expect(within(s.p50, l.p50 as number, 0.1)).toBe(true);
    expect(within(s.p90, l.p90 as number, 0.1)).toBe(true);
    expect(within(s.p50, TRUE_P50, 0.1)).toBe(true);
    expect(within(s.p90, TRUE_P90, 0.1)).toBe(true);
    expect(within(l.p50, TRUE_P50, 0.05)).toBe(true);
    expect(within(l.p90, TRUE_P90, 0.05)).toBe(true);
  });

  it("counting only requests that ended in the window would miss by more than 10%", () => {
    const short = closedLoop(5_000_000, "cut");
    const survivors = survivorsOnly(short.records, short.window);
    expect(quantileSorted(survivors, 0.5)).toBeLessThan(TRUE_P50 * 0.9);
    expect(quantileSorted(survivors, 0.9)).toBeLessThan(TRUE_P90 * 0.9);
  });

  it("a window cut at its close (no cool-down) gives null, flagged percentiles, not biased ones", () => {
    const short = closedLoop(5_000_000, "cut");
    const e2e = windowFigures(short.records, short.window).latency.e2eMs;
    expect(e2e.censored).toBeGreaterThan(0);
    expect(e2e.p50).toBeNull();
    expect(e2e.p90).toBeNull();
    expect(e2e.flags.join("; ")).toMatch(/requests cut before their end could lie below it/);
  });
});
