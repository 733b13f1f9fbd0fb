import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { histogramDelta, histogramQuantile } from "../../analysis/aggregate/histogram-quantile.ts";
import {
  histogram,
  parsePrometheusText,
  sumSeries,
} from "../../analysis/aggregate/prometheus-text.ts";
import { GaugeFigures, scrapeDeltaColumns } from "../../analysis/aggregate/server-figures.ts";
import { DataError } from "../../common/errors.ts";
import { vllmMetricsText } from "./synthetic-campaign.ts";

const TEXT = `# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="m"} 7.0
vllm:request_success_total{engine="0",finished_reason="length",model_name="m"} 3.0
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.5",model_name="m"} 1.0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="m"} 4.0
vllm:e2e_request_latency_seconds_count{engine="0",model_name="m"} 4.0
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="m"} 6.5
vllm:e2e_request_latency_seconds_bucket{engine="1",le="0.5",model_name="m"} 2.0
vllm:e2e_request_latency_seconds_bucket{engine="1",le="+Inf",model_name="m"} 2.0
vllm:e2e_request_latency_seconds_count{engine="1",model_name="m"} 2.0
vllm:e2e_request_latency_seconds_sum{engine="1",model_name="m"} 0.5
vllm:cache_config_info{block_size="16",note="a \\"quoted\\", value"} 1.0`;

describe("parsePrometheusText", () => {
  it("keeps labels of every histogram series (vLLM's carry model_name and engine)", () => {
    const samples = parsePrometheusText(TEXT, "m.prom");
    expect(sumSeries(samples, "vllm:request_success_total")).toBe(10);
    expect(histogram(samples, "vllm:e2e_request_latency_seconds")).toEqual({
      buckets: [
        { le: 0.5, count: 3 },
        { le: Number.POSITIVE_INFINITY, count: 6 },
      ],
      sum: 7,
      count: 6,
    });
  });

  it("unescapes label values and reads a last line without its newline", () => {
    const samples = parsePrometheusText(TEXT, "m.prom");
    const info = samples.find((s) => s.name === "vllm:cache_config_info");
    expect(info).toEqual({
      name: "vllm:cache_config_info",
      labels: { block_size: "16", note: 'a "quoted", value' },
      value: 1,
    });
  });

  it("throws a DataError naming the file for text that is not Prometheus", () => {
    expect(() => parsePrometheusText('x{a="1" 2\n', "bad.prom")).toThrow(DataError);
    expect(() => parsePrometheusText('x{a="1" 2\n', "bad.prom")).toThrow(/not Prometheus/);
  });

  it("names the first line that is not exposition format (the lenient parser takes HTML)", () => {
    const cases: [string, number][] = [
      ["<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n", 1],
      ['# HELP x_total x.\nx_total 3\nx_total{a="1"}\n', 3],
      ["x_total 3\nx_tot", 2],
      ['x_total 3\ny_total{a="', 2],
      ["x_total 0x10\n", 1],
    ];
    for (const [text, line] of cases) {
      try {
        parsePrometheusText(text, "bad.prom");
        expect.unreachable(text);
      } catch (error) {
        expect((error as DataError).format()).toMatch(
          new RegExp(`^bad\\.prom:${line}: not Prometheus text format: `),
        );
      }
    }
    const ok = 'a_total{x="1",} 1e-05\nb NaN\nc +Inf 1700000000\n\n# comment\n';
    expect(parsePrometheusText(ok, "ok.prom").map((s) => s.value)).toEqual([
      1e-5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ]);
  });

  it("round-trips any counter value and label set (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom("a", "b", "model_name", "engine"),
          fc.string({ maxLength: 8 }),
        ),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (labels, value) => {
          const esc = (v: string) =>
            v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
          const body = Object.entries(labels)
            .map(([k, v]) => `${k}="${esc(v)}"`)
            .join(",");
          const text = `# TYPE vllm:x_total counter\nvllm:x_total{${body}} ${value}\n`;
          const [sample] = parsePrometheusText(text, "p.prom");
          expect(sample!.labels).toEqual(labels);
          expect(sample!.value).toBe(value === 0 ? 0 : value);
        },
      ),
    );
  });
});

describe("histogramQuantile (PromQL histogram_quantile)", () => {
  const h = (buckets: [number, number][]) => ({
    buckets: buckets.map(([le, count]) => ({ le, count })),
    sum: 0,
    count: buckets[buckets.length - 1]![1],
  });

  it("interpolates linearly inside the bucket holding the rank", () => {
    const hist = h([
      [1, 10],
      [2, 30],
      [4, 40],
      [Number.POSITIVE_INFINITY, 40],
    ]);
    expect(histogramQuantile(0.5, hist)).toBeCloseTo(1 + (20 - 10) / 20, 12); // 1.5
    // rank 4 of 40 lies in the first bucket, which starts at 0: 0 + 1 · 4/10.
    expect(histogramQuantile(0.1, hist)).toBeCloseTo(0.4, 12);
    expect(histogramQuantile(0.05, hist)).toBeCloseTo(0.2, 12);
    expect(histogramQuantile(0.9, hist)).toBeCloseTo(2 + 2 * (6 / 10), 12);
  });

  it("returns the highest finite bound for a rank in +Inf, null when empty", () => {
    expect(
      histogramQuantile(
        0.99,
        h([
          [1, 1],
          [Number.POSITIVE_INFINITY, 10],
        ]),
      ),
    ).toBe(1);
    expect(
      histogramQuantile(
        0.5,
        h([
          [1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ]),
      ),
    ).toBeNull();
  });

  it("subtracts the scrape before, bucket by bucket", () => {
    const before = h([
      [1, 5],
      [Number.POSITIVE_INFINITY, 6],
    ]);
    const after = h([
      [1, 8],
      [Number.POSITIVE_INFINITY, 12],
    ]);
    expect(histogramDelta(before, after).buckets.map((b) => b.count)).toEqual([3, 6]);
  });

  it("is monotone in q and stays within the finite bounds (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(50), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (increments, q1, q2) => {
          let cum = 0;
          const buckets: [number, number][] = increments.map((inc, i) => {
            cum += inc;
            return [2 ** i, cum];
          });
          buckets.push([Number.POSITIVE_INFINITY, cum]);
          const hist = h(buckets);
          const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1];
          const a = histogramQuantile(lo, hist);
          const b = histogramQuantile(hi, hist);
          if (cum === 0) return a === null && b === null;
          return (
            a !== null && b !== null && a <= b + 1e-9 && a >= 0 && b <= 2 ** (increments.length - 1)
          );
        },
      ),
    );
  });
});

describe("server figures", () => {
  it("reads both the new and the old KV-cache gauge names", () => {
    for (const metric of ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"]) {
      const g = new GaugeFigures();
      g.add({ t_us: 1, metric, labels: {}, value: 0.25 });
      g.add({ t_us: 2, metric, labels: {}, value: 0.5 });
      expect(g.finish().server_kv_cache_usage_max).toBe(0.5);
    }
  });

  it("never takes the after-scrape's lifetime totals as the delta", () => {
    const after = parsePrometheusText(vllmMetricsText({ promptTokens: 42, oldKvName: true }), "a");
    const warnings: string[] = [];
    const columns = scrapeDeltaColumns(
      { file: "b", problem: "missing" },
      { file: "a", samples: after },
      (w) => warnings.push(w),
    );
    expect(columns.server_prompt_tokens).toBeNull();
    expect(warnings).toEqual(["b: missing; server counter and histogram columns left empty"]);
  });
});
