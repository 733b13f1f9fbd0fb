/**
 * Was the measured window what it claims to be? A server frozen mid-window
 * (SIGSTOP, a hung engine) still lets the load engine end on time with few
 * errors, so the figures look merely slow. Two symptoms give it away: the
 * experiment overruns warm-up + window by more than the cool-down can last
 * (one request timeout and a slack: requests sent in the window end by their
 * timeout, then the cool-down's own are cancelled; drained ones end the same way),
 * or the server answered /metrics before the window and not after it.
 */
import type { LoadConfig } from "../config/schema.ts";
import { COOL_DOWN_SLACK_MS } from "../load/node/run.ts";

export interface WindowFacts {
  load: Pick<LoadConfig, "warmup" | "duration" | "timeout">;
  /** The load engine's call: warm-up, window, and the cool-down or drain after it. */
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
  if (overrun > facts.load.timeout + COOL_DOWN_SLACK_MS) {
    flags.push(
      `the window overran its ${seconds(planned)} by ${seconds(overrun)}, more than a cool-down lasts (the request timeout, ${seconds(facts.load.timeout)}, + ${seconds(COOL_DOWN_SLACK_MS)})`,
    );
  }
  if (facts.scrapedBefore && !facts.scrapedAfter) {
    flags.push("no after-scrape: /metrics answered before the window but not after it");
  }
  return flags;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
