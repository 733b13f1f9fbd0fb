/** `GET /v1/models`: the served model's name, when the user did not give one. */
import { request } from "undici";
import { ServerError } from "../../common/errors.ts";
import { parseTargetUrl } from "./target-url.ts";

export async function firstServedModel(baseUrl: string, apiKey?: string): Promise<string> {
  const target = parseTargetUrl(baseUrl);
  const url = `${target.origin}${target.basePath}/v1/models`;
  const headers: Record<string, string> = {};
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  let status: number;
  let body: unknown;
  try {
    const res = await request(url, { headers, headersTimeout: 30_000, bodyTimeout: 30_000 });
    status = res.statusCode;
    body = await res.body.json().catch(() => null);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "error";
    throw new ServerError(`cannot reach ${target.origin} (${code})`, {
      field: "url",
      hint: "is the server running?",
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
