/**
 * k6's console (its logger): @types/k6 leaves it undeclared. `console.log`
 * lines go raw to `--console-output` with `--log-format=raw`.
 */
declare const console: {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};
