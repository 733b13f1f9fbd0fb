/**
 * k6 scenario with plain `k6/http`. k6 buffers response bodies, so this
 * measures E2E and (from `usage`, or by counting the buffered SSE chunks)
 * tokens, but not TTFT or ITL: those fields are null in its records
 * (engine `k6`). Use `chat-sse.ts` with an xk6-sse build for TTFT.
 *
 *   k6 run --log-format=raw --console-output=k6-console.log load/k6/chat.ts
 * with VSCALE_PARAMS set; `vscale` (load/k6/runner.ts) does all of this.
 */
import { sleep } from "k6";
import http from "k6/http";
import type { ErrorKind } from "../../formats/request-record.ts";
import { buildRecord } from "../workload/record-builder.ts";
import { ResponseTracker } from "../workload/response-tracker.ts";
import { buildK6Options } from "./options.ts";
import { emitRecord, logStart, params, planRequest, requestUrl, summaryFiles } from "./scenario.ts";

export const options = buildK6Options(params);

export function setup(): void {
  logStart();
}

/** k6 error codes (k6 docs, "Error codes") → our error kinds. */
function k6ErrorKind(code: number, status: number): ErrorKind {
  if (code === 1050) return "timeout";
  if (code >= 1100 && code < 1220) return "connect";
  if (code >= 1220 && code < 1300) return "reset";
  return status > 0 ? "truncated" : "reset";
}

export default function (): void {
  const req = planRequest();
  const startMs = Date.now();
  const res = http.post(requestUrl, req.body, {
    headers: req.headers,
    timeout: `${params.timeoutMs}ms`,
    responseType: "text",
    tags: { name: "completion" },
  });
  const t = res.timings;
  const elapsedMs = t.blocked + t.connecting + t.tls_handshaking + t.duration;
  const tracker = new ResponseTracker(params.api, params.stream);
  if (res.error_code !== 0 && res.error_code !== undefined && res.status < 400) {
    if (res.status > 0) tracker.onHeaders(res.status, res.headers["Content-Type"]);
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
  emitRecord(
    buildRecord(
      {
        experimentId: params.experimentId,
        engine: "k6",
        requestId: req.requestId,
        promptSet: params.promptSetName,
        promptTokensKnown: req.prompt.tokens,
        warmup: req.warmup,
        startUs: startMs * 1000,
        sendMs: 0,
        chunkTimesVisible: false,
      },
      tracker.outcome(),
    ),
  );
  if (params.schedule.mode === "closed" && params.schedule.thinkTimeMs > 0) {
    sleep(params.schedule.thinkTimeMs / 1000);
  }
}

export function handleSummary(data: object): Record<string, string> {
  return summaryFiles(data);
}
