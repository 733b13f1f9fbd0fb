/**
 * Prometheus text exposition (0.0.4) → flat samples `{name, labels, value}`,
 * parsed by `parse-prometheus-text-format` (a port of the official Python
 * client's parser: label escapes, +Inf/NaN, timestamps).
 *
 * That library folds a histogram's samples into one `buckets` map and drops
 * the labels and `_sum`/`_count` whenever series carry labels besides `le`,
 * which vLLM's always do (`model_name`). So `# TYPE` lines are withheld from
 * it: every sample then comes back on its own with all its labels, and the
 * histogram is reassembled from `<name>_bucket`/`_sum`/`_count` by name.
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { DataError } from "../../common/errors.ts";

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function promNumber(text: string): number {
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
}

// The exposition grammar, line by line. parse-prometheus-text-format accepts
// almost anything (an nginx 502 page parses as samples named `<html>` with
// value 0), so every line is checked here first; only then is it trusted.
const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*\\s*=\\s*"(?:[^"\\\\\\n]|\\\\.)*"`;
const LABELS = `\\{\\s*(?:${LABEL}\\s*(?:,\\s*${LABEL}\\s*)*,?\\s*)?\\}`;
/** Python's float(): what prometheus_client writes (`1.0`, `1e-05`, `+Inf`, `NaN`). */
const VALUE = "[+-]?(?:(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?|Inf|inf|Infinity|NaN|nan)";
const SAMPLE_LINE = new RegExp(`^\\s*${NAME}\\s*(?:${LABELS})?\\s+${VALUE}(?:\\s+-?\\d+)?\\s*$`);

/** Throws a DataError at the first line that is neither a sample, a comment nor blank. */
function checkLines(lines: readonly string[], file: string): void {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.trimStart();
    if (t === "" || t.startsWith("#") || SAMPLE_LINE.test(line)) continue;
    const shown = line.length > 60 ? `${line.slice(0, 60)}…` : line;
    throw new DataError(`not Prometheus text format: ${JSON.stringify(shown)}`, {
      file,
      line: i + 1,
      hint: 'expected `name{label="value"} number` lines, the body of a /metrics scrape',
    });
  }
}

export function parsePrometheusText(text: string, file: string): PromSample[] {
  const all = text.split("\n");
  checkLines(all, file);
  const lines = all.filter((line) => !line.trimStart().startsWith("# TYPE "));
  // The parser only flushes its last family at a line after it: end with a blank line.
  lines.push("");
  let families: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    families = parsePrometheusTextFormat(lines.join("\n"));
  } catch (error) {
    throw new DataError(`not Prometheus text format: ${(error as Error).message}`, {
      file,
      hint: "expected the body of a /metrics scrape",
    });
  }
  const samples: PromSample[] = [];
  for (const family of families) {
    for (const metric of family.metrics) {
      if (metric.value === undefined) continue;
      samples.push({
        name: family.name,
        labels: metric.labels ?? {},
        value: promNumber(metric.value),
      });
    }
  }
  return samples;
}

/** A sample's name and label set, the same whatever order the labels were written in. */
export function seriesKey(s: PromSample): string {
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`);
  return `${s.name}{${labels.join(",")}}`;
}

/** Sum of every series of `name` (all label sets); null when absent. */
export function sumSeries(samples: readonly PromSample[], name: string): number | null {
  let total: number | null = null;
  for (const s of samples) if (s.name === name) total = (total ?? 0) + s.value;
  return total;
}

export interface Histogram {
  /** Cumulative counts by upper bound, ascending, ending with +Inf. */
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** A histogram summed over all its series (e.g. several engines or models); null when absent. */
export function histogram(samples: readonly PromSample[], name: string): Histogram | null {
  const byLe = new Map<number, number>();
  let sum = 0;
  let count = 0;
  let seen = false;
  for (const s of samples) {
    if (s.name === `${name}_bucket`) {
      const le = s.labels.le;
      if (le === undefined) continue;
      const bound = promNumber(le);
      byLe.set(bound, (byLe.get(bound) ?? 0) + s.value);
      seen = true;
    } else if (s.name === `${name}_sum`) sum += s.value;
    else if (s.name === `${name}_count`) count += s.value;
  }
  if (!seen) return null;
  const buckets = [...byLe.entries()]
    .map(([le, c]) => ({ le, count: c }))
    .sort((a, b) => a.le - b.le);
  return { buckets, sum, count };
}
