/**
 * The server-side serial fraction: the share of step time that does not
 * shrink with N, from the step timings of one group at N = 1 and N > 1.
 * Steps are compared shape for shape (the same prefill and decode token
 * counts, so the same work): for each shape seen at least MIN_STEPS times on
 * both sides, r = median t(N) / median t(1) and, inverting Amdahl's
 * t(N)/t(1) = s + (1 − s)/N, s = (r − 1/N)/(1 − 1/N). The estimate is the mean
 * over shapes and N values with a 95% t-interval (stats/t-quantile.ts), each
 * shape weighing once however many steps it had.
 */
import { quantileSorted } from "../../stats/quantile.ts";
import { meanInterval } from "../../stats/t-quantile.ts";

export interface StepTiming {
  stepS: number;
  prefillTokens: number | null;
  decodeTokens: number | null;
}

export interface ServerSerial {
  s: number | null;
  low: number | null;
  high: number | null;
  /** Shape × N comparisons the estimate averages. */
  comparisons: number;
}

/** Steps of one shape needed on each side: a median of fewer is one step's noise. */
export const MIN_STEPS = 5;

function mediansByShape(steps: readonly StepTiming[]): Map<string, number> {
  const byShape = new Map<string, number[]>();
  for (const st of steps) {
    if (st.prefillTokens === null || st.decodeTokens === null || !(st.stepS > 0)) continue;
    const key = `${st.prefillTokens}|${st.decodeTokens}`;
    byShape.set(key, [...(byShape.get(key) ?? []), st.stepS]);
  }
  const out = new Map<string, number>();
  for (const [key, times] of byShape) {
    if (times.length < MIN_STEPS) continue;
    out.set(
      key,
      quantileSorted(
        times.sort((a, b) => a - b),
        0.5,
      ),
    );
  }
  return out;
}

/** `byN`: each GPU count's steps (N = 1 must be among them). */
export function serverSerialFraction(
  byN: ReadonlyMap<number, readonly StepTiming[]>,
): ServerSerial {
  const base = byN.get(1);
  const none = { s: null, low: null, high: null, comparisons: 0 };
  if (base === undefined) return none;
  const one = mediansByShape(base);
  const values: number[] = [];
  for (const [n, steps] of byN) {
    if (n <= 1) continue;
    for (const [key, t] of mediansByShape(steps)) {
      const t1 = one.get(key);
      if (t1 === undefined) continue;
      values.push((t / t1 - 1 / n) / (1 - 1 / n));
    }
  }
  if (values.length === 0) return none;
  const { mean, low, high } = meanInterval(values);
  return { s: mean, low, high, comparisons: values.length };
}
