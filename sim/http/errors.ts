/**
 * Error bodies in the shape vLLM 0.10's OpenAI server returns
 * (`ErrorResponse`: object "error", message, type, param, code), plus the
 * two non-OpenAI shapes it uses: `{"error": "Unauthorized"}` for a wrong API
 * key and FastAPI's `{"detail": …}` for unknown routes.
 */
import type { ServerResponse } from "node:http";

export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;

  constructor(status: number, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.param = param;
    this.type =
      status === 404
        ? "NotFoundError"
        : status === 401
          ? "AuthenticationError"
          : status >= 500
            ? "InternalServerError"
            : "BadRequestError";
  }

  body(): Record<string, unknown> {
    return {
      object: "error",
      message: this.message,
      type: this.type,
      param: this.param,
      code: this.status,
    };
  }
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
