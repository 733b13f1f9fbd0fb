/**
 * Every bound a numeric setting has, one row each, with the reason. The matrix
 * schemas (config/values.ts builders) and every command's flags
 * (cli/flag-values.ts) take their bounds from here, so a value the plan refuses
 * is refused as a flag too, with the same message; docs/reliability.md lists
 * this table.
 *
 * The bounds sit far above any real scaling run and far below what exhausts
 * memory or overflows a timer on a 2-core, 24 GiB machine: past them, arrays
 * sized by the setting (users, prompts, replicates) end in a V8 fatal error
 * instead of a message.
 */

export interface Limit {
  /** Largest value accepted (inclusive). */
  max: number;
  /** What the number counts, for messages. */
  unit: string;
  /** Why the bound is where it is, and what to do instead. */
  why: string;
}

/**
 * Node's timers hold at most 2^31 − 1 ms (24.8 days); a longer delay fires at
 * once, so `duration: 600h` used to close the window immediately. A day per
 * window is already far beyond any scaling run.
 */
export const MAX_DURATION_MS = 24 * 3_600_000;

export const LIMITS = {
  users: {
    max: 65_536,
    unit: "users",
    why: "each user holds one connection; one host reaches one server address through about 28,000 ephemeral ports, so split larger loads into segments on several hosts",
  },
  rate: {
    max: 100_000,
    unit: "requests/s",
    why: "beyond what one vLLM server completes; arrivals are scheduled one timer at a time",
  },
  spawn_rate: {
    max: 10_000_000,
    unit: "users/s",
    why: "a rate above the users is already all at once",
  },
  burstiness: {
    max: 1_000,
    unit: "(gamma shape)",
    why: "a shape of 1,000 is already a constant rate",
  },
  tokens: {
    max: 2_097_152,
    unit: "tokens",
    why: "longer than the context window of any served model",
  },
  prompt_count: {
    max: 100_000,
    unit: "prompts",
    why: "prompts are made before the window opens and kept in memory; sample a larger file instead",
  },
  prompt_set_tokens: {
    max: 33_554_432,
    unit: "tokens",
    why: "a synthetic prompt set (count × the longest prompt) is held in memory as text, about 4 bytes a token",
  },
  turns: { max: 1_000, unit: "turns", why: "each turn resends the whole conversation" },
  workers: {
    max: 512,
    unit: "worker threads",
    why: "one thread each with its own event loop; more than the cores only adds switching",
  },
  segments: {
    max: 1_024,
    unit: "segments",
    why: "one pod or process each",
  },
  bootstrap: {
    max: 100_000,
    unit: "replicates",
    why: "the interval's Monte Carlo error is already below 0.2% of its width at 10,000",
  },
  sweep_rates: { max: 100, unit: "rate steps", why: "each step is a whole window" },
  temperature: {
    max: 100,
    unit: "",
    why: "far beyond the 0–2 range OpenAI-compatible servers use",
  },
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof LIMITS;

/** The message for a value past its limit: the bound, its unit and the reason. */
export function overLimitMessage(name: LimitName, got: string | number): string {
  const limit: Limit = LIMITS[name];
  const unit = limit.unit ? ` ${limit.unit}` : "";
  return `expected at most ${limit.max.toLocaleString("en-US")}${unit} (the limit: ${limit.why}), got ${typeof got === "string" ? `"${got}"` : got.toLocaleString("en-US")}`;
}
