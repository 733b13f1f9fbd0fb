/**
 * `metrics-before.prom` / `metrics-after.prom` → a Scrape: its samples, or
 * the reason it cannot bracket the window (missing, not a plain file, empty,
 * cut short, not Prometheus text, not vLLM's). The reason goes into a
 * warning; the server columns it feeds are then null, never lifetime totals.
 */
import { readFile } from "node:fs/promises";
import { DataError } from "../../common/errors.ts";
import { inputFileProblem, MAX_WHOLE_FILE_BYTES } from "./input-files.ts";
import { parsePrometheusText } from "./prometheus-text.ts";
import type { Scrape } from "./server-figures.ts";

export async function readScrape(file: string): Promise<Scrape> {
  const problem = await inputFileProblem(file, {
    bytes: MAX_WHOLE_FILE_BYTES,
    name: "MAX_WHOLE_FILE_BYTES",
  });
  if (problem !== null) return { file, problem };
  const text = await readFile(file, "utf8");
  if (text.trim() === "") return { file, problem: "empty" };
  // Every line of the text format ends with a newline, the last one too
  // (prometheus_client and prom-client both write it): without one, the
  // body was cut short.
  if (!text.endsWith("\n")) return { file, problem: "truncated (the last line has no newline)" };
  let samples: ReturnType<typeof parsePrometheusText>;
  try {
    samples = parsePrometheusText(text, file);
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    return { file, line: error.location.line, problem: error.message };
  }
  if (!samples.some((s) => s.name.startsWith("vllm:"))) {
    return { file, problem: "no vllm: metrics (not a scrape of vLLM's /metrics?)" };
  }
  return { file, samples };
}
