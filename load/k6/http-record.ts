/**
 * The record of one plain `k6/http` request (chat.ts): k6 hands over the
 * whole buffered body, so chunk times are unseen and TTFT, ITL, the gaps and
 * hence goodput are null (not 0). Pure (no k6 import), so tests feed it real
 * responses.
 */
import type { ErrorKind, RequestRecord } from "../../formats/request-record.ts";
import type { ApiKind } from "../workload/bodies.ts";
import { buildRecord } from "../workload/record-builder.ts";
import { ResponseTracker } from "../workload/response-tracker.ts";
import { CUT_MESSAGE, cutAtWindowEnd } from "./window-cut.ts";

/** The parts of k6's `http.Response` read here. */
export interface K6HttpResponse {
  status: number;
  error_code?: number;
  error?: string;
  headers: Record<string, string>;
  body: unknown;
  timings: { blocked: number; connecting: number; tls_handshaking: number; duration: number };
}

export interface K6HttpRequest {
  experimentId: string;
  promptSet: string;
  requestId: string;
  promptTokens: number | null;
  warmup: boolean;
  api: ApiKind;
  stream: boolean;
  /** Wall-clock send time (ms since the epoch). */
  startMs: number;
  /** Epoch ms when the scenario's duration ends, and the request timeout (window-cut.ts). */
  windowEndMs?: number;
  timeoutMs?: number;
  /** prefill-only: the request's wave. */
  wave?: number;
}

/** k6 error codes (k6 docs, "Error codes") → our error kinds. */
function k6ErrorKind(code: number, status: number): ErrorKind {
  if (code === 1050) return "timeout";
  if (code >= 1100 && code < 1220) return "connect";
  if (code >= 1220 && code < 1300) return "reset";
  return status > 0 ? "truncated" : "reset";
}

export function recordFromK6Http(req: K6HttpRequest, res: K6HttpResponse): RequestRecord {
  const t = res.timings;
  const elapsedMs = t.blocked + t.connecting + t.tls_handshaking + t.duration;
  const tracker = new ResponseTracker(req.api, req.stream);
  if (res.error_code !== 0 && res.error_code !== undefined && res.status < 400) {
    if (res.status > 0) tracker.onHeaders(res.status, res.headers["Content-Type"]);
    const cut =
      req.windowEndMs !== undefined &&
      req.timeoutMs !== undefined &&
      cutAtWindowEnd({
        startMs: req.startMs,
        failedMs: req.startMs + elapsedMs,
        windowEndMs: req.windowEndMs,
        timeoutMs: req.timeoutMs,
      });
    if (cut) tracker.onFailure("cancelled", CUT_MESSAGE, elapsedMs);
    else
      tracker.onFailure(
        k6ErrorKind(res.error_code, res.status),
        String(res.error).slice(0, 200),
        elapsedMs,
      );
  } else {
    tracker.onHeaders(res.status, res.headers["Content-Type"]);
    tracker.onData(typeof res.body === "string" ? res.body : "", elapsedMs);
    tracker.onEnd(elapsedMs);
  }
  return buildRecord(
    {
      experimentId: req.experimentId,
      engine: "k6",
      requestId: req.requestId,
      promptSet: req.promptSet,
      promptTokensKnown: req.promptTokens,
      warmup: req.warmup,
      startUs: req.startMs * 1000,
      sendMs: 0,
      chunkTimesVisible: false,
      ...(req.wave === undefined ? {} : { wave: req.wave }),
    },
    tracker.outcome(),
  );
}
