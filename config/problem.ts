/**
 * A problem found in a matrix, before it becomes a ConfigError: what is wrong,
 * where (the path into the YAML, so the error can name line:column) and a hint.
 * The checks return or raise these; `matrix-file.ts` turns them into errors.
 */
export type PathKey = string | number;

export interface Problem {
  message: string;
  path: PathKey[];
  hint?: string;
  /** Point at this key of the mapping at `path` rather than at its value. */
  key?: string;
}

/** How checks stop at the first problem: the caller knows the file to point into. */
export type Fail = (problem: Problem) => never;

/** `server.command[4]` from `["server", "command", 4]`. */
export function fieldName(path: readonly PathKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${key}` : key),
    "",
  );
}
