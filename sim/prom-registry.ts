/**
 * A small Prometheus registry whose text exposition is byte-for-byte the one
 * vLLM serves. vLLM runs prometheus_client in multiprocess mode
 * (vllm/v1/metrics/prometheus.py), whose `generate_latest` writes every
 * number through `floatToGoString` (`le="1.0"`, `0.0`), sorts each sample's
 * labels, puts a histogram's `_sum` lines before its buckets and `_count`,
 * and writes no `_created` series. prom-client formats numbers the JavaScript
 * way (`le="1"`, `0`) and orders labels as given, so it cannot produce that
 * text; this is hand-written for that reason and kept to what the simulator
 * needs. Histograms take `observe(value, count)`: a step's tokens share one
 * inter-token gap, so a step costs one call.
 */

type Labels = Record<string, string>;

/** prometheus_client's `floatToGoString`: Python's float repr, Go's exponent switch for le. */
export function floatToGoString(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  const s = pythonFloatRepr(value);
  const dot = s.indexOf(".");
  if (value > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}`.replace(/[0.]+$/, "");
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

/** `repr(float(x))`: shortest round-trip digits, exponent below 1e-4 and from 1e16. */
export function pythonFloatRepr(value: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exponent = "0"] = value.toExponential().split("e");
    const sign = exponent.startsWith("-") ? "-" : "+";
    const digits = exponent.replace(/^[+-]/, "").padStart(2, "0");
    return `${mantissa}e${sign}${digits}`;
  }
  const s = String(value);
  return Number.isInteger(value) ? `${s}.0` : s;
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const entries = Object.entries(labels);
  if (extra) entries.push(extra);
  if (entries.length === 0) return "";
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const quoteValue = (v: string) =>
    v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
  return `{${entries.map(([k, v]) => `${k}="${quoteValue(v)}"`).join(",")}}`;
}

export class ValueSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
  set(value: number): void {
    this.value = value;
  }
}

export class HistogramSeries {
  /** Non-cumulative counts per bucket; the last slot is above every bound. */
  private readonly counts: Float64Array;
  sum = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** `count` observations of `value`. */
  observe(value: number, count = 1): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + count;
    this.sum += value * count;
  }

  lines(name: string): string[] {
    const out: string[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i] as number;
      const le = i < this.bounds.length ? floatToGoString(this.bounds[i] as number) : "+Inf";
      out.push(
        `${name}_bucket${labelText(this.labels, ["le", le])} ${floatToGoString(cumulative)}`,
      );
    }
    out.push(`${name}_count${labelText(this.labels)} ${floatToGoString(cumulative)}`);
    return out;
  }
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  series: (ValueSeries | HistogramSeries)[];
}

export class PromRegistry {
  readonly contentType = "text/plain; version=0.0.4; charset=utf-8";
  private readonly families: Family[] = [];

  /** A family; `name` is the exposition name (counters already end in `_total`). */
  family(name: string, type: Family["type"], help: string): Family {
    const family: Family = { name, type, help, series: [] };
    this.families.push(family);
    return family;
  }

  value(family: Family, labels: Labels): ValueSeries {
    const series = new ValueSeries(labels);
    family.series.push(series);
    return series;
  }

  histogram(family: Family, labels: Labels, bounds: readonly number[]): HistogramSeries {
    const series = new HistogramSeries(labels, bounds);
    family.series.push(series);
    return series;
  }

  text(): string {
    const out: string[] = [];
    for (const family of this.families) {
      const help = family.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
      out.push(`# HELP ${family.name} ${help}`, `# TYPE ${family.name} ${family.type}`);
      if (family.type === "histogram") {
        const all = family.series as HistogramSeries[];
        for (const s of all)
          out.push(`${family.name}_sum${labelText(s.labels)} ${floatToGoString(s.sum)}`);
        for (const s of all) out.push(...s.lines(family.name));
      } else {
        for (const s of family.series as ValueSeries[])
          out.push(`${family.name}${labelText(s.labels)} ${floatToGoString(s.value)}`);
      }
    }
    return `${out.join("\n")}\n`;
  }
}
