/**
 * A Prometheus histogram that takes `observe(value, count)`: `count`
 * observations of one value in one call. The per-token latency histograms are
 * fed once per step this way: a step's tokens mostly share one inter-token
 * gap, and prom-client's `observe` hashes the label set on every call, which
 * at tens of thousands of tokens per second cost more than streaming them.
 *
 * It implements prom-client's metric interface (`get()`), so it registers in
 * the same Registry and its exposition text has the shape of a prom-client
 * Histogram's: `_bucket{le=…}` cumulative counts, `+Inf`, `_sum`, `_count`.
 */
import type { Registry } from "prom-client";

type LabelSet = Record<string, string>;

/** What prom-client's Registry reads from a metric (its typings declare `type` as an enum). */
interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}
interface ExportedMetric {
  name: string;
  help: string;
  type: "histogram";
  values: ExportedValue[];
  aggregator: "sum";
}

interface Series {
  labels: LabelSet;
  /** Non-cumulative counts per bucket; the last slot is above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class WeightedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly upperBounds: readonly number[];
  private readonly series: Series[];

  /** One series per label set; `observe` addresses them by index. */
  constructor(
    name: string,
    help: string,
    buckets: readonly number[],
    labelSets: readonly LabelSet[],
    registry: Registry,
  ) {
    this.name = name;
    this.help = help;
    this.upperBounds = [...buckets].sort((a, b) => a - b);
    this.series = labelSets.map((labels) => ({
      labels,
      counts: new Float64Array(this.upperBounds.length + 1),
      sum: 0,
      count: 0,
    }));
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** Record `count` observations of `value` in series `index`. */
  observe(index: number, value: number, count = 1): void {
    const series = this.series[index];
    if (!series || count <= 0 || !Number.isFinite(value)) return;
    let bucket = 0;
    while (bucket < this.upperBounds.length && value > (this.upperBounds[bucket] as number))
      bucket++;
    series.counts[bucket] = (series.counts[bucket] as number) + count;
    series.sum += value * count;
    series.count += count;
  }

  get(): Promise<ExportedMetric> {
    const values: ExportedValue[] = [];
    for (const series of this.series) {
      let cumulative = 0;
      this.upperBounds.forEach((bound, i) => {
        cumulative += series.counts[i] as number;
        values.push({
          labels: { le: bound, ...series.labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push(
        {
          labels: { le: "+Inf", ...series.labels },
          value: series.count,
          metricName: `${this.name}_bucket`,
        },
        { labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` },
        { labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  reset(): void {
    for (const series of this.series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
