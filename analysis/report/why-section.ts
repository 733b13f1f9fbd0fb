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

/**
 * The recommendations: per workload, one sentence per goal (each carries its
 * figures and runs; agg/recommendations.csv has the numbers), the goals no
 * configuration has figures for in one line, the objectives stated once.
 */
export function recommendationsHtml(rows: readonly Recommendation[]): string {
  if (rows.length === 0) return "";
  const contexts = [...new Set(rows.map((r) => r.context))];
  const body = contexts
    .map((context) => {
      const mine = rows.filter((r) => r.context === context);
      const lacking = mine.filter((r) => r.verdict === null && r.candidates > 0);
      const said = mine.filter((r) => !lacking.includes(r));
      // One sentence when no configuration met the SLOs: it is the same for every goal.
      const sentences = said.every((r) => r.candidates === 0)
        ? said.slice(0, 1).map((r) => r.sentence.replace(/^(For [^,]*), [^:]*:/, "$1:"))
        : said.map((r) => r.sentence);
      const items = [
        ...sentences.map((t) => `<li>${escapeHtml(t)}</li>`),
        ...(lacking.length > 0
          ? [
              `<li>No configuration has the figures for: ${escapeHtml(lacking.map((r) => r.goal).join(", "))}.</li>`,
            ]
          : []),
      ];
      const first = mine[0] as Recommendation;
      return `<h3>${escapeHtml(context)}</h3>\n<p>${first.configurations} configuration(s) measured, ${first.candidates} qualifying (every ok run not client-limited, with throughput and e2e p99, within the SLOs).</p>\n<ul class="recommendations">${items.join("")}</ul>`;
    })
    .join("\n");
  const slo = rows[0]?.slo ?? "none";
  return `<h2>Recommendations</h2>\n<p>For each workload (its load factors: the load is given, not chosen), the server configuration to run per goal, among configurations whose ok runs are all measured (not client-limited) and within the SLOs (${escapeHtml(slo === "none" ? "no SLO set" : `SLO ${slo}`)}). "Best" only where the lead over the runner-up is outside the 95% interval of run-to-run noise; "tied" within it; with one run on a side the noise is unmeasured and nothing is chosen (docs/why.md).</p>\n${body}`;
}
