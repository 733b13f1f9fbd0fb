import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file so the CLI works from any cwd. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The CLI entry point; `kind: sim` servers run `node <this> sim serve …`. */
export const VSCALE_BIN = join(REPO_ROOT, "bin", "vscale.mjs");

let version: string | undefined;

/** vscale's own version (package.json), recorded in every experiment.json. */
export function vscaleVersion(): string {
  if (version === undefined) {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      version?: string;
    };
    version = pkg.version ?? "unknown";
  }
  return version;
}
