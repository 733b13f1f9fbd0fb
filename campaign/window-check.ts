/**
 * Was the measured window what it claims to be? A server frozen mid-window
 * (SIGSTOP, a hung engine) still lets the load engine end on time with few
 * errors, so the figures look merely slow. Two symptoms give it away: the
 * experiment overruns warm-up + window by more than one request timeout
 * (nothing legitimate takes longer: drained requests end at their timeout),
 * or the server answered /metrics before the window and not after it.
 */
import type { LoadConfig } from "../config/schema.ts";

export interface WindowFacts {
  load: Pick<LoadConfig, "warmup" | "duration" | "timeout">;
  /** The load engine's call: warm-up, window, and the drain or cancel at its end. */
  ranMs: number;
  /** The load engine returned normally (not interrupted, not failed). */
  completed: boolean;
  scrapedBefore: boolean;
  scrapedAfter: boolean;
}

export function windowFlags(facts: WindowFacts): string[] {
  if (!facts.completed) return [];
  const flags: string[] = [];
  const planned = facts.load.warmup + facts.load.duration;
  const overrun = facts.ranMs - planned;
  if (overrun > facts.load.timeout) {
    flags.push(
      `the window overran its ${seconds(planned)} by ${seconds(overrun)}, more than the request timeout (${seconds(facts.load.timeout)})`,
    );
  }
  if (facts.scrapedBefore && !facts.scrapedAfter) {
    flags.push("no after-scrape: /metrics answered before the window but not after it");
  }
  return flags;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
