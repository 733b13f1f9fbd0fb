/**
 * The report's "Why not linear" section: per group, the rows of
 * `agg/why.csv` and `agg/why_points.csv` (analysis/why/why-table.ts) as
 * tables, formatted only: every number was computed there.
 */
import type { Recommendation } from "../why/recommend.ts";
import type { Why, WhyPointRow } from "../why/why-table.ts";
import { escapeHtml } from "./html.ts";

const fmt = (v: number | null, digits = 3) => (v === null ? "–" : v.toFixed(digits));
const range = (low: number | null, high: number | null) =>
  low === null || high === null ? "–" : `[${fmt(low)}, ${fmt(high)}]`;

function pointsTable(points: readonly WhyPointRow[]): string {
  const head =
    "<tr><th>N</th><th>steps</th><th>schedule</th><th>execute</th><th>update</th><th>step ms</th><th>Karp–Flatt e</th><th>bottleneck</th><th>top kernels</th></tr>";
  const rows = points
    .map(
      (p) =>
        `<tr><td>${p.n}</td><td>${p.steps}</td><td>${fmt(p.schedule_share)}</td><td>${fmt(p.execute_share)}</td><td>${fmt(p.update_share)}</td><td>${fmt(p.step_ms_mean, 2)}</td><td>${fmt(p.karp_flatt_e)}</td><td>${escapeHtml(p.bottleneck ?? "–")}</td><td>${escapeHtml(p.top_kernels ?? "–")}</td></tr>`,
    )
    .join("");
  return `<table class="why-points">${head}${rows}</table>`;
}

export function whySectionHtml(why: Why): string {
  if (why.groups.length === 0) return "";
  const groups = why.groups
    .map((g) => {
      const serial = `<table class="why-serial"><tr><th></th><th>s</th><th>95% interval</th></tr><tr><td>fitted (client throughput)</td><td>${fmt(g.s_fit)}</td><td>${range(g.s_fit_low, g.s_fit_high)}</td></tr><tr><td>server-side (step timings, ${g.comparisons} comparisons)</td><td>${fmt(g.s_server)}</td><td>${range(g.s_server_low, g.s_server_high)}</td></tr></table>`;
      const points = why.points.filter((p) => p.group === g.group);
      return `<h3>${escapeHtml(g.group)}</h3>\n${pointsTable(points)}\n${serial}\n<p class="why-sentence">${escapeHtml(g.sentence)}</p>`;
    })
    .join("\n");
  return `<h2>Why not linear</h2>\n<p>Step-phase shares, Karp–Flatt e(N), bottleneck class and top kernels at each N; the server-side serial fraction beside the fitted s (docs/why.md).</p>\n${groups}`;
}

/** The recommendations table (agg/recommendations.csv's rows). */
export function recommendationsHtml(rows: readonly Recommendation[]): string {
  if (rows.length === 0) return "";
  const head =
    "<tr><th>goal</th><th>experiment</th><th>config</th><th>output tok/s</th><th>e2e p99 ms</th><th>Pareto</th><th>runner-up</th><th>margin</th><th>note</th></tr>";
  const body = rows
    .map(
      (r) =>
        `<tr><td>${r.goal}</td><td>${escapeHtml(r.experiment_id ?? "–")}</td><td>${escapeHtml(r.config ?? "–")}</td><td>${fmt(r.output_tokens_per_s, 1)}</td><td>${fmt(r.e2e_ms_p99, 1)}</td><td>${r.pareto === null ? "–" : r.pareto ? "yes" : "no"}</td><td>${escapeHtml(r.runner_up ?? "–")}</td><td>${r.margin === null ? "–" : `${(100 * r.margin).toFixed(1)}%`}</td><td>${escapeHtml(r.note ?? "")}</td></tr>`,
    )
    .join("");
  return `<h2>Recommendations</h2>\n<p>Best measured configuration per goal among ok, not client-limited experiments meeting the SLOs (${rows[0]?.candidates ?? 0} candidates; docs/why.md).</p>\n<table class="recommendations">${head}${body}</table>`;
}
