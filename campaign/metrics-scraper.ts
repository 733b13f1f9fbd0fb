/**
 * The server's own view of a load window: `/metrics` scraped as text just
 * before and just after it (aggregation takes the counter and histogram
 * deltas), and the `vllm:` gauges (running, waiting, KV-cache use) sampled
 * every second in between into metrics.ndjson.
 */
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { writeFileAtomic } from "../common/atomic-write.ts";
import { type MetricSample, MetricSampleSchema } from "../formats/raw-layout.ts";
import { VLLM_PREFIX } from "../formats/vllm-metrics.ts";
import { authHeaders } from "./health.ts";

interface ParsedFamily {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

// parse-prometheus-text-format ships CommonJS without types: the part we use, typed here.
const parsePrometheus = createRequire(import.meta.url)("parse-prometheus-text-format") as (
  text: string,
) => ParsedFamily[];

/** A scrape that takes longer is given up (a frozen server answers nothing). */
export const SCRAPE_TIMEOUT_MS = 5_000;

/** `GET /metrics` as text; null when the server has none or does not answer. */
export async function scrapeMetrics(
  url: string,
  apiKey?: string,
  signal?: AbortSignal,
): Promise<string | null> {
  try {
    const timeout = AbortSignal.timeout(SCRAPE_TIMEOUT_MS);
    const response = await fetch(`${url}/metrics`, {
      headers: authHeaders(apiKey),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!response.ok) {
      await response.body?.cancel();
      return null;
    }
    return await response.text();
  } catch {
    return null;
  }
}

/** Scrape and store as `file`; true when something was written. */
export async function scrapeMetricsTo(url: string, file: string, apiKey?: string) {
  const text = await scrapeMetrics(url, apiKey);
  if (text === null) return false;
  await writeFileAtomic(file, text);
  return true;
}

/** Every gauge sample of the `vllm:` families in an exposition text. */
export function gaugeSamples(text: string, tUs: number, prefix = VLLM_PREFIX): MetricSample[] {
  const samples: MetricSample[] = [];
  let families: ParsedFamily[];
  try {
    families = parsePrometheus(text);
  } catch {
    return samples;
  }
  for (const family of families) {
    if (family.type !== "GAUGE" || !family.name.startsWith(prefix)) continue;
    for (const metric of family.metrics) {
      const value = Number(metric.value);
      if (!Number.isFinite(value)) continue;
      samples.push({ t_us: tUs, metric: family.name, labels: metric.labels ?? {}, value });
    }
  }
  return samples;
}

export interface GaugeSampler {
  /** Stops sampling and closes the file; resolves with the number of samples written. */
  stop(): Promise<number>;
}

/** Sample gauges every `intervalMs` (first sample at once) and append them to `outFile`. */
export function startGaugeSampler(options: {
  url: string;
  outFile: string;
  intervalMs?: number;
  apiKey?: string;
}): GaugeSampler {
  const out = createWriteStream(options.outFile, { flags: "w" });
  let written = 0;
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  const cancel = new AbortController();
  const sampleOnce = async () => {
    const tUs = Math.round(Date.now() * 1000);
    const text = await scrapeMetrics(options.url, options.apiKey, cancel.signal);
    if (text === null || stopped) return;
    for (const sample of gaugeSamples(text, tUs)) {
      out.write(`${JSON.stringify(MetricSampleSchema.parse(sample))}\n`);
      written++;
    }
  };
  const tick = () => {
    // One scrape at a time, and a tick that finds one still running is skipped: queued
    // scrapes of a frozen server would each wait out their timeout after the window.
    if (inFlight || stopped) return;
    inFlight = sampleOnce().finally(() => {
      inFlight = undefined;
    });
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? 1000);
  return {
    async stop() {
      clearInterval(timer);
      stopped = true;
      cancel.abort();
      await inFlight;
      await new Promise<void>((resolveEnd, reject) => {
        out.end((error?: Error | null) => (error ? reject(error) : resolveEnd()));
      });
      return written;
    },
  };
}
