/**
 * Secrets never reach a matrix file, a command line or a log: these checks
 * find one written inline (an `api_key:` key, `--api-key sk-…`, `--hf-token
 * hf_…`, an env value for a name that looks secret) so expansion can refuse
 * it, pointing at the secret itself.
 */
import { placeholdersIn } from "./placeholders.ts";
import type { PathKey, Problem } from "./problem.ts";
import type { LoadSection, ServerConfig } from "./schema.ts";

/** Keys that are secrets and must never be written in a matrix. */
const INLINE_SECRET_KEYS = ["api_key", "apikey", "token", "password", "secret"];
const SECRET_NAME_RE = /(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)/i;
/** Values shaped like OpenAI-style or Hugging Face keys, whatever flag or variable holds them. */
const SECRET_VALUE_RE = /^(sk-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,})$/;
/** `${NAME}`: a value copied from the environment when the server starts. */
export const ENV_REFERENCE_RE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** A secret-looking key in `load` or `server`, checked on the raw YAML before the schema. */
export function inlineSecretKey(raw: Record<string, unknown>): Problem | undefined {
  for (const section of ["load", "server"] as const) {
    const value = raw[section];
    if (value === null || typeof value !== "object") continue;
    for (const key of Object.keys(value)) {
      if (INLINE_SECRET_KEYS.includes(key.toLowerCase())) {
        return {
          message:
            "a secret is written inline; the matrix must only name the environment variable that holds it",
          path: [section],
          key,
          hint: "use `load.api_key_env: NAME` and export NAME before running",
        };
      }
    }
  }
  return undefined;
}

/** A secret in `command`/`args` (inline or as the next element) or in `env`. */
export function serverSecret(
  server: ServerConfig,
  load: Pick<LoadSection, "api_key_env">,
): Problem | undefined {
  const commandLength = server.command?.length ?? 0;
  const argv = [...(server.command ?? []), ...server.args];
  const at = (i: number): PathKey[] =>
    i < commandLength ? ["server", "command", i] : ["server", "args", i - commandLength];
  for (const [i, element] of argv.entries()) {
    const next = argv[i + 1];
    const inline = /^--api-key=(.+)$/.exec(element);
    const separate = element === "--api-key" && next !== undefined && next !== "{api_key}";
    if ((inline && inline[1] !== "{api_key}") || separate) {
      // Point at the secret itself, not at the flag before it.
      return {
        message: "a secret is written inline in the server command",
        path: at(separate ? i + 1 : i),
        hint: "write `--api-key {api_key}` and set load.api_key_env",
      };
    }
    // vLLM's --hf-token takes an optional value; alone it uses the stored login.
    const hfInline = /^--hf-token=(.+)$/.exec(element);
    const hfSeparate = element === "--hf-token" && next !== undefined && !next.startsWith("-");
    if (hfInline || hfSeparate) {
      return {
        message: "a Hugging Face token is written inline in the server command",
        path: at(hfSeparate ? i + 1 : i),
        hint: `drop the value and set server.env HF_TOKEN: "\${HF_TOKEN}"`,
      };
    }
    const value = /^--[^=]+=(.*)$/.exec(element)?.[1] ?? element;
    if (SECRET_VALUE_RE.test(value)) {
      return {
        message: "a value that looks like an API key or token is written inline",
        path: at(i),
        hint: `pass secrets through environment variables (load.api_key_env, server.env NAME: "\${NAME}")`,
      };
    }
  }
  for (const [name, value] of Object.entries(server.env)) {
    if (
      (SECRET_NAME_RE.test(name) || SECRET_VALUE_RE.test(value)) &&
      !ENV_REFERENCE_RE.test(value)
    ) {
      return {
        message: `environment variable ${name} looks secret and is written inline`,
        path: ["server", "env", name],
        hint: `write ${name}: "\${${name}}" to copy it from your environment`,
      };
    }
  }
  if (argv.some((a) => placeholdersIn(a).includes("api_key")) && !load.api_key_env) {
    return {
      message: "the command uses {api_key} but load.api_key_env names no variable",
      path: ["load"],
      hint: "add api_key_env: VLLM_API_KEY",
    };
  }
  return undefined;
}
