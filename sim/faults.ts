/**
 * Fault injection, decided per request from the seeded generator so a run is
 * reproducible:
 * - `--sim-fail-rate p`: the request is refused with HTTP 500 before any output.
 * - `--sim-truncate-rate p`: the connection is dropped after about half of the
 *   request's tokens, without a final chunk or `[DONE]`.
 * - `--sim-stall-ms MS`: every stream pauses MS ms of wall-clock time after its
 *   first token; tokens generated meanwhile arrive in one burst afterwards.
 * - `--sim-crash-after N`: when the N-th accepted request receives its first
 *   token, the server dies abruptly (the CLI exits with code 1), leaving the
 *   other streams cut mid-way.
 */
import { mixSeed, uniform } from "./random.ts";

export interface FaultOptions {
  simFailRate: number;
  simTruncateRate: number;
  simStallMs: number;
  simCrashAfter?: number | undefined;
  seed: number;
}

export interface RequestFaults {
  fail: boolean;
  /** Drop the connection after this many tokens, or never. */
  truncateAfterTokens: number | undefined;
  /** This request triggers the crash when its first token is produced. */
  crashOnFirstToken: boolean;
  stallMs: number;
}

export class FaultInjector {
  private readonly options: FaultOptions;
  private readonly random: () => number;
  private accepted = 0;

  constructor(options: FaultOptions) {
    this.options = options;
    // A stream separate from output lengths: turning faults on must not change the workload.
    this.random = uniform(mixSeed(options.seed, 0xfa17));
  }

  /** Decide the faults of a new request; `outputTokens` is its planned length. */
  next(outputTokens: number): RequestFaults {
    const { simFailRate, simTruncateRate, simStallMs, simCrashAfter } = this.options;
    const fail = simFailRate > 0 && this.random() < simFailRate;
    if (fail) return { fail, truncateAfterTokens: undefined, crashOnFirstToken: false, stallMs: 0 };
    this.accepted++;
    const truncate = simTruncateRate > 0 && this.random() < simTruncateRate;
    return {
      fail,
      truncateAfterTokens: truncate ? Math.max(1, Math.floor(outputTokens / 2)) : undefined,
      crashOnFirstToken: simCrashAfter !== undefined && this.accepted === simCrashAfter,
      stallMs: simStallMs,
    };
  }
}
