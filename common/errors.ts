/**
 * The small set of error classes every stage throws. Each carries where the
 * problem is (file, line:column, field path) and what was expected, so the CLI
 * can print exactly one helpful line. User mistakes exit 2, failures exit 1.
 */

export interface ErrorLocation {
  /** File the problem is in, as the user named it. */
  file?: string;
  /** 1-based line and column, when known. */
  line?: number;
  column?: number;
  /** Dotted path of the offending field, e.g. `load.duration`. */
  field?: string;
  /** A short suggestion: "did you mean `users`?". */
  hint?: string;
}

abstract class VscaleError extends Error {
  abstract readonly exitCode: number;
  readonly location: ErrorLocation;

  constructor(message: string, location: ErrorLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.location = location;
  }

  /** One line: `file:line:col: field: message (hint)`. */
  format(): string {
    const { file, line, column, field, hint } = this.location;
    let where = file ?? "";
    if (file && line !== undefined) where += `:${line}${column !== undefined ? `:${column}` : ""}`;
    const parts = [where, field].filter((p) => p !== undefined && p !== "");
    const prefix = parts.length > 0 ? `${parts.join(": ")}: ` : "";
    return `${prefix}${this.message}${hint ? ` (${hint})` : ""}`;
  }
}

/** The user's configuration or command line is wrong: exit 2, nothing written. */
export class ConfigError extends VscaleError {
  readonly exitCode = 2;
}

/** Input data on disk is malformed or missing: exit 2. */
export class DataError extends VscaleError {
  readonly exitCode = 2;
}

/** A server we started or talk to misbehaved (never healthy, crashed, refused): exit 1. */
export class ServerError extends VscaleError {
  readonly exitCode = 1;
}

export type { VscaleError };

export function isVscaleError(error: unknown): error is VscaleError {
  return error instanceof ConfigError || error instanceof DataError || error instanceof ServerError;
}
