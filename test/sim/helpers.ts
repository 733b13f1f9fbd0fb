/** Real-socket helpers for the simulator tests: start a server, read SSE streams. */
import { type SimOptions, type SimServer, startSimServer } from "../../sim/server.ts";

export const MODEL = "meta-llama/Llama-3.1-8B-Instruct";

/** Start an in-process simulator on an ephemeral port; the caller closes it. */
export function sim(options: Partial<SimOptions> = {}): Promise<SimServer> {
  return startSimServer({ model: MODEL, simTimeScale: 20, ...options });
}

export interface SseEvent {
  data: string;
  /** performance.now() when the event was parsed. */
  atMs: number;
}

export interface StreamResult {
  status: number;
  events: SseEvent[];
  /** JSON payloads of all events but `[DONE]`. */
  chunks: Record<string, unknown>[];
  done: boolean;
  /** The connection failed before the end (reset, truncation). */
  error: unknown;
  sentMs: number;
}

/** POST a streaming request and collect every SSE event with its arrival time. */
export async function stream(
  url: string,
  path: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<StreamResult> {
  const sentMs = performance.now();
  const events: SseEvent[] = [];
  let error: unknown;
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ stream: true, ...body }),
    });
  } catch (caught) {
    // No response at all (refused, reset before headers).
    return { status: 0, events, chunks: [], done: false, error: caught, sentMs };
  }
  let buffer = "";
  try {
    const decoder = new TextDecoder();
    for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(part, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.startsWith("data: "))
          throw new Error(`bad SSE framing: ${JSON.stringify(block)}`);
        events.push({ data: block.slice(6), atMs: performance.now() });
        end = buffer.indexOf("\n\n");
      }
    }
  } catch (caught) {
    error = caught;
  }
  const done = events.at(-1)?.data === "[DONE]";
  const chunks = events
    .filter((e) => e.data !== "[DONE]")
    .map((e) => JSON.parse(e.data) as Record<string, unknown>);
  return { status: response.status, events, chunks, done, error, sentMs };
}

export async function postJson(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  // Not JSON (e.g. an empty body) reads as an empty object; `text` keeps the raw body.
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { status: response.status, json, text };
}

/** Text pieces of streamed chunks (chat `delta.content` or completion `text`), usage chunk excluded. */
export function pieces(chunks: Record<string, unknown>[]): { text: string; finish: unknown }[] {
  const out: { text: string; finish: unknown }[] = [];
  for (const chunk of chunks) {
    const choices = chunk.choices as {
      delta?: { content?: string; role?: string };
      text?: string;
      finish_reason: unknown;
    }[];
    const choice = choices[0];
    if (!choice) continue;
    if (choice.delta?.role) continue;
    out.push({ text: choice.delta?.content ?? choice.text ?? "", finish: choice.finish_reason });
  }
  return out;
}

/** Sum of a metric's samples whose label set contains every given label. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

export { freePort } from "../../common/free-port.ts";
