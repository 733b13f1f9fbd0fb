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
import { type K6HttpRequest, type K6HttpResponse, recordFromK6Http } from "./http-record.ts";
import { buildK6Options } from "./options.ts";
import {
  emitRecord,
  logStart,
  type PlannedRequest,
  params,
  planRequest,
  planWave,
  requestUrl,
  summaryFiles,
} from "./scenario.ts";

export const options = buildK6Options(params);

export function setup(): void {
  logStart();
}

const REQUEST_PARAMS = {
  timeout: `${params.timeoutMs}ms`,
  responseType: "text" as const,
  tags: { name: "completion" },
};

/** The record of one answered request, sent at `startMs` (epoch ms). */
function emitAnswer(req: PlannedRequest, startMs: number, res: K6HttpResponse, wave?: number) {
  const request: K6HttpRequest = {
    experimentId: params.experimentId,
    promptSet: params.promptSetName,
    requestId: req.requestId,
    promptTokens: req.prompt.tokens,
    warmup: req.warmup,
    api: params.api,
    stream: params.stream,
    startMs,
    windowEndMs: req.windowEndMs,
    timeoutMs: params.timeoutMs,
  };
  emitRecord(recordFromK6Http(wave === undefined ? request : { ...request, wave }, res));
}

export default function (): void {
  const s = params.schedule;
  if (s.mode === "closed" && s.scenario === "prefill-only") {
    prefillWave(s.users);
    return;
  }
  const req = planRequest();
  const startMs = Date.now();
  const res = http.post(requestUrl, req.body, { headers: req.headers, ...REQUEST_PARAMS });
  emitAnswer(req, startMs, res);
  if (params.schedule.mode === "closed" && params.schedule.thinkTimeMs > 0) {
    sleep(params.schedule.thinkTimeMs / 1000);
  }
}

/**
 * One prefill-only wave: B requests at once through `http.batch`, which returns when the last
 * has finished, so the next iteration (the next wave) starts only then: the scenario's barrier.
 */
function prefillWave(batchSize: number): void {
  const { wave, requests } = planWave(batchSize);
  const startMs = Date.now();
  const responses = http.batch(
    requests.map((req) => ({
      method: "POST",
      url: requestUrl,
      body: req.body,
      params: { headers: req.headers, ...REQUEST_PARAMS },
    })),
  );
  for (const [i, req] of requests.entries()) {
    const res = responses[i];
    if (res !== undefined) emitAnswer(req, startMs, res, wave);
  }
}

export function handleSummary(data: object): Record<string, string> {
  return summaryFiles(data);
}
