/**
 * A plain end-of-test summary for standalone `k6 run` (a scenario that
 * defines handleSummary replaces k6's own, and jslib's textSummary is a
 * remote import): one line per metric with its aggregated values. Pure.
 */
interface MetricData {
  type?: string;
  values?: Record<string, number>;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

export function textSummary(data: object): string {
  const metrics = ((data as { metrics?: Record<string, MetricData> }).metrics ?? {}) as Record<
    string,
    MetricData
  >;
  const lines = Object.keys(metrics)
    .sort()
    .map((name) => {
      const values = metrics[name]?.values ?? {};
      const parts = Object.entries(values).map(([k, v]) => `${k}=${fmt(v)}`);
      return `  ${name}: ${parts.join(" ")}`;
    });
  return `vscale k6 scenario summary (records are the JSON console lines)\n${lines.join("\n")}\n`;
}
