/**
 * What a plan needs from the environment it will run in: every `${NAME}` in
 * `server.env` and the variable `load.api_key_env` names. Checked when the
 * plan is made, so a missing one is a one-line error before any server starts
 * (it used to surface when the group's server was being started).
 */
import type { Fail } from "./problem.ts";
import type { Matrix } from "./schema.ts";
import { ENV_REFERENCE_RE } from "./secrets.ts";

export function checkEnvironment(m: Matrix, env: NodeJS.ProcessEnv, fail: Fail): void {
  for (const [name, value] of Object.entries(m.server.env)) {
    const from = ENV_REFERENCE_RE.exec(value)?.[1];
    if (from === undefined || env[from] !== undefined) continue;
    fail({
      message: `environment variable ${from} is not set`,
      path: ["server", "env", name],
      hint: `export ${from}=… before running; server.env copies it when the server starts`,
    });
  }
  const keyName = m.load.api_key_env;
  if (keyName !== undefined && (env[keyName] === undefined || env[keyName] === "")) {
    fail({
      message: `environment variable ${keyName} is not set`,
      path: ["load", "api_key_env"],
      hint: `export ${keyName}=<your API key>`,
    });
  }
}
