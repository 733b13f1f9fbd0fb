/** `GET /v1/models`: the served model's name, when the user did not give one. */
import { request } from "undici";
import { ServerError } from "../../common/errors.ts";
import { parseTargetUrl } from "./target-url.ts";

export async function firstServedModel(
  baseUrl: string,
  apiKey?: string,
  timeoutMs = 30_000,
): Promise<string> {
  const target = parseTargetUrl(baseUrl);
  const url = `${target.origin}${target.basePath}/v1/models`;
  const headers: Record<string, string> = {};
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  let status: number;
  let body: unknown;
  try {
    const res = await request(url, { headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    status = res.statusCode;
    body = await res.body.json().catch(() => null);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "error";
    // undici's timeout codes: the server took the connection but sent no answer.
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT")
      throw new ServerError(
        `${target.origin} accepted the connection but did not answer GET /v1/models within ${timeoutMs / 1000}s`,
        { field: "url", hint: "the server is up but stuck or still loading; check its log" },
      );
    throw new ServerError(`cannot reach ${target.origin} (${code})`, {
      field: "url",
      hint: "is the server running?",
    });
  }
  if (status === 401 || status === 403) {
    throw new ServerError(`GET /v1/models answered HTTP ${status}: the server wants an API key`, {
      field: apiKey ? "api key" : "url",
      hint: apiKey
        ? "the key given was refused; check the variable --api-key-env (load.api_key_env) names"
        : "set --api-key-env (load.api_key_env) to the NAME of a variable holding the key",
    });
  }
  const data = (body as { data?: Array<{ id?: unknown }> } | null)?.data;
  const id = Array.isArray(data) ? data[0]?.id : undefined;
  if (status !== 200 || typeof id !== "string") {
    throw new ServerError(`GET /v1/models answered HTTP ${status} without a model`, {
      field: "model",
      hint: "pass --model",
    });
  }
  return id;
}
