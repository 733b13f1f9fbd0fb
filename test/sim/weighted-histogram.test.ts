import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { WeightedHistogram } from "../../sim/weighted-histogram.ts";

const BUCKETS = [0.01, 0.025, 0.1, 1, 2.5];
const LABELS = [
  { model_name: "m", engine: "0" },
  { model_name: "m", engine: "1" },
];

describe("WeightedHistogram", () => {
  it("exposes the same text as a prom-client Histogram fed one value at a time", async () => {
    // Values exact in binary, so sums agree to the last digit.
    const observations: [number, number, number][] = [
      [0, 0.0078125, 3],
      [0, 0.0625, 5],
      [1, 0.5, 2],
      [0, 0.5, 1],
      [1, 4, 1],
      [0, 0.01, 2],
    ];
    const plainRegistry = new Registry();
    const plain = new Histogram({
      name: "vllm:inter_token_latency_seconds",
      help: "Histogram of inter-token latency in seconds.",
      labelNames: ["model_name", "engine"],
      buckets: BUCKETS,
      registers: [plainRegistry],
    });
    const weightedRegistry = new Registry();
    const weighted = new WeightedHistogram(
      "vllm:inter_token_latency_seconds",
      "Histogram of inter-token latency in seconds.",
      BUCKETS,
      LABELS,
      weightedRegistry,
    );
    for (const [series, value, count] of observations) {
      for (let i = 0; i < count; i++)
        plain.labels(LABELS[series] as (typeof LABELS)[0]).observe(value);
      weighted.observe(series, value, count);
    }
    const expected = await plainRegistry.metrics();
    expect(await weightedRegistry.metrics()).toBe(expected);
    expect(expected).toContain(
      'vllm:inter_token_latency_seconds_bucket{le="0.1",model_name="m",engine="0"} 10',
    );
  });

  it("ignores non-finite values and counts of zero; reset empties every series", async () => {
    const registry = new Registry();
    const weighted = new WeightedHistogram("h_seconds", "h", BUCKETS, LABELS, registry);
    weighted.observe(0, Number.NaN, 3);
    weighted.observe(0, 1, 0);
    weighted.observe(1, 0.02, 4);
    let text = await registry.metrics();
    expect(text).toContain('h_seconds_count{model_name="m",engine="0"} 0');
    expect(text).toContain('h_seconds_bucket{le="0.025",model_name="m",engine="1"} 4');
    weighted.reset();
    text = await registry.metrics();
    expect(text).toContain('h_seconds_count{model_name="m",engine="1"} 0');
  });
});
