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

/**
 * A file could not be read or written (a full disk, a missing permission, a
 * directory where a file belongs): exit 1, one line naming the file. Node's
 * errors for writes through a handle carry no path, so the writer adds it.
 */
export class FileError extends VscaleError {
  readonly exitCode = 1;
}

const SYSTEM_WORDS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory, where a file belongs",
  ENOTDIR: "a part of the path is a file, where a folder belongs",
  EEXIST: "already exists",
  EROFS: "the file system is read-only",
  EMFILE: "too many open files",
  ENOENT: "no such file or folder",
};

/** A Node system error (errno `code`), or null. */
function systemCode(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : null;
}

/**
 * `error` as a FileError naming `file` when it is a system error (ENOSPC,
 * EACCES, EISDIR …), else `error` unchanged.
 */
export function asFileError(error: unknown, verb: "write" | "read", file: string): unknown {
  if (isVscaleError(error)) return error;
  const code = systemCode(error);
  if (code === null) return error;
  const words = SYSTEM_WORDS[code] ?? (error as Error).message;
  return new FileError(`cannot ${verb} ${file}: ${words} (${code})`, {}, { cause: error });
}

/**
 * The one line the CLI prints for an error it did not make: a system error
 * names its file and code; anything else is a bug, printed with its stack.
 */
export function unexpectedErrorText(error: unknown): string {
  const code = systemCode(error);
  if (code !== null) {
    const path = (error as NodeJS.ErrnoException).path;
    const words = SYSTEM_WORDS[code] ?? (error as Error).message;
    return `vscale: ${path ? `${path}: ` : ""}${words} (${code})`;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * Control characters (NUL, ESC …) from input files or values, escaped before
 * they reach the terminal, where they would be hidden or act on it.
 */
export function escapeControl(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    /[\u0000-\u0008\u000b-\u001f\u007f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export type { VscaleError };

export function isVscaleError(error: unknown): error is VscaleError {
  return (
    error instanceof ConfigError ||
    error instanceof DataError ||
    error instanceof ServerError ||
    error instanceof FileError
  );
}
