/**
 * Error bodies in the shape vLLM v0.16.0's OpenAI server returns
 * (vllm/entrypoints/openai/engine/protocol.py `ErrorResponse`:
 * `{"error": {"message", "type", "param", "code"}}`), plus the two other
 * shapes it uses: `{"error": "Unauthorized"}` for a wrong API key and
 * FastAPI's `{"detail": …}` for unknown routes. A request body that fails
 * validation has type "Bad Request" (server_utils.py
 * `validation_exception_handler`); errors raised while serving have the
 * exception's class name (engine/serving.py `create_error_response`).
 */
import type { ServerResponse } from "node:http";

/** `HTTPStatus.BAD_REQUEST.phrase`: the type of a request that fails validation. */
export const VALIDATION_ERROR_TYPE = "Bad Request";

export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;

  constructor(status: number, message: string, param: string | null = null, type?: string) {
    super(message);
    this.status = status;
    this.param = param;
    this.type =
      type ??
      (status === 404
        ? "NotFoundError"
        : status === 401
          ? "AuthenticationError"
          : status >= 500
            ? "InternalServerError"
            : "BadRequestError");
  }

  body(): { error: { message: string; type: string; param: string | null; code: number } } {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.status },
    };
  }

  /**
   * The SSE payload of an error after the stream started: vLLM writes it with
   * Python's `json.dumps` (`create_streaming_error_response`), spaces after
   * `:` and `,`, non-ASCII escaped.
   */
  streamPayload(): string {
    return pythonJsonDumps(this.body());
  }
}

/** Python's `json.dumps` defaults for plain data: `", "` and `": "`, ensure_ascii. */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value) ?? "null";
    return text.replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(", ")}]`;
  const entries = Object.entries(value).map(
    ([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`,
  );
  return `{${entries.join(", ")}}`;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, error.body());
}
