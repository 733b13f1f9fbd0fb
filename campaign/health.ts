/**
 * Waiting for a server to become ready: `GET /health` answers 200 and
 * `GET /v1/models` lists the model the matrix names. vLLM answers /health
 * only once the engine is up, so this is the same test for both servers.
 */
import { ServerError } from "../common/errors.ts";
import type { ExitInfo } from "./process-group.ts";

export interface WaitHealthyOptions {
  url: string;
  model: string;
  timeoutMs: number;
  apiKey?: string;
  /** Resolves if the server process exits: waiting stops at once. */
  exited?: Promise<ExitInfo>;
  /** Last lines of the server log, shown when it never became healthy. */
  logTail?: () => Promise<string[]>;
  pollMs?: number;
  signal?: AbortSignal;
}

export function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/** GET with a per-request timeout; undefined when the server did not answer. */
async function tryGet(url: string, apiKey: string | undefined): Promise<Response | undefined> {
  try {
    return await fetch(url, { headers: authHeaders(apiKey), signal: AbortSignal.timeout(2_000) });
  } catch {
    return undefined;
  }
}

function describeExit(exit: ExitInfo): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

async function withLog(message: string, logTail: WaitHealthyOptions["logTail"]): Promise<string> {
  const lines = logTail ? await logTail() : [];
  return lines.length > 0 ? `${message}; last lines of its log:\n  ${lines.join("\n  ")}` : message;
}

/**
 * Resolves when the server is ready; throws ServerError when the process exits
 * first, when it serves another model, or when `timeoutMs` passes.
 */
export async function waitHealthy(options: WaitHealthyOptions): Promise<void> {
  const { url, model, timeoutMs, apiKey } = options;
  const pollMs = options.pollMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let exit: ExitInfo | undefined;
  void options.exited?.then((e) => {
    exit = e;
  });
  let lastProblem = "no answer on /health";
  for (;;) {
    if (options.signal?.aborted) throw new ServerError("interrupted while waiting for the server");
    if (exit) {
      throw new ServerError(
        await withLog(`server ${describeExit(exit)} before it became healthy`, options.logTail),
        { field: "server", hint: "see the server log under _servers/" },
      );
    }
    const health = await tryGet(`${url}/health`, apiKey);
    if (health) {
      await health.body?.cancel();
      if (health.ok) {
        const models = await tryGet(`${url}/v1/models`, apiKey);
        if (models?.ok) {
          const body = (await models.json().catch(() => undefined)) as
            | { data?: { id?: unknown }[] }
            | undefined;
          const ids = (body?.data ?? []).map((m) => String(m.id));
          if (ids.includes(model)) return;
          throw new ServerError(`server at ${url} serves ${ids.join(", ") || "no model"}`, {
            field: "server.model",
            hint: `the matrix expects "${model}"`,
          });
        }
        if (models) await models.body?.cancel();
        // A refused key is an answer, not a server still loading: waiting out health_timeout
        // (10 min by default) would only delay the same verdict.
        if (models && (models.status === 401 || models.status === 403)) {
          throw new ServerError(
            `server at ${url} refused the API key: /v1/models answered ${models.status}`,
            {
              field: "load.api_key_env",
              hint: apiKey
                ? "the key in that variable is not one the server accepts"
                : "the server wants an API key: set load.api_key_env to the variable holding it",
            },
          );
        }
        lastProblem = models ? `/v1/models answered ${models.status}` : "no answer on /v1/models";
      } else {
        lastProblem = `/health answered ${health.status}`;
      }
    }
    if (Date.now() >= deadline) {
      throw new ServerError(
        await withLog(
          `server at ${url} not healthy within ${Math.round(timeoutMs / 1000)} s (${lastProblem})`,
          options.logTail,
        ),
        { field: "server.health_timeout", hint: "raise health_timeout if the model loads slowly" },
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

/** The server's version from `GET /version` (vLLM: `{"version": "0.x"}`), or null. */
export async function serverVersion(url: string, apiKey?: string): Promise<string | null> {
  const response = await tryGet(`${url}/version`, apiKey);
  if (!response?.ok) {
    await response?.body?.cancel();
    return null;
  }
  const body = (await response.json().catch(() => undefined)) as { version?: unknown } | undefined;
  return typeof body?.version === "string" ? body.version : null;
}
