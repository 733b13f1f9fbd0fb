/**
 * k6 scenario for builds with the xk6-sse extension (`k6/x/sse`): events
 * arrive one by one, so TTFT and ITL are measured (engine `k6-sse`), at the
 * millisecond resolution of k6's `Date.now()`.
 *
 *   xk6 build --with github.com/phymbert/xk6-sse
 *   ./k6 run --log-format=raw --console-output=k6-console.log load/k6/chat-sse.ts
 */
import { sleep } from "k6";
import sse from "k6/x/sse";
import { buildRecord } from "../workload/record-builder.ts";
import { ResponseTracker, statusErrorKind } from "../workload/response-tracker.ts";
import { buildK6Options } from "./options.ts";
import { emitRecord, logStart, params, planRequest, requestUrl, summaryFiles } from "./scenario.ts";
import { CUT_MESSAGE, cutAtWindowEnd } from "./window-cut.ts";

export const options = buildK6Options(params);

export function setup(): void {
  logStart();
}

export default function (): void {
  const req = planRequest();
  const startMs = Date.now();
  // The extension streams only: the request always asks for a stream.
  const tracker = new ResponseTracker(params.api, true);
  const response = sse.open(
    requestUrl,
    { method: "POST", headers: req.headers, body: req.body, tags: { name: "completion" } },
    (client) => {
      client.on("open", () => tracker.onHeaders(200, "text/event-stream"));
      client.on("event", (event) => {
        tracker.onSseEvent(event.name || "message", event.data, Date.now() - startMs);
      });
      client.on("error", (error) => {
        const message = error.error();
        const failedMs = Date.now();
        const window = { windowEndMs: req.windowEndMs, timeoutMs: params.timeoutMs };
        if (cutAtWindowEnd({ startMs, failedMs, ...window })) {
          tracker.onFailure("cancelled", CUT_MESSAGE, failedMs - startMs);
          return;
        }
        const kind = /timeout/i.test(message)
          ? "timeout"
          : tracker.headersReceived
            ? "truncated"
            : "connect";
        tracker.onFailure(kind, message.slice(0, 200), Date.now() - startMs);
      });
    },
  );
  const endMs = Date.now() - startMs;
  if (response.status >= 400) {
    tracker.onFailure(statusErrorKind(response.status), `HTTP ${response.status}`, endMs);
  }
  tracker.onEnd(endMs);
  const outcome = tracker.outcome();
  if (outcome.httpStatus === null && response.status > 0) outcome.httpStatus = response.status;
  emitRecord(
    buildRecord(
      {
        experimentId: params.experimentId,
        engine: "k6-sse",
        requestId: req.requestId,
        promptSet: params.promptSetName,
        promptTokensKnown: req.prompt.tokens,
        warmup: req.warmup,
        startUs: startMs * 1000,
        sendMs: 0,
        chunkTimesVisible: true,
      },
      outcome,
    ),
  );
  if (params.schedule.mode === "closed" && params.schedule.thinkTimeMs > 0) {
    sleep(params.schedule.thinkTimeMs / 1000);
  }
}

export function handleSummary(data: object): Record<string, string> {
  return summaryFiles(data);
}
