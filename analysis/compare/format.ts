/**
 * A Comparison as console lines and as a self-contained HTML page (the
 * report's comparison page): both from the same Comparison value.
 */
import type { Comparison } from "./compare.ts";

const pct = (v: number | null) =>
  v === null ? "-" : `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)}%`;
const num = (v: number | null) =>
  v === null ? "-" : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3);

export function formatComparison(c: Comparison): string[] {
  const lines = [
    `compare ${c.a} → ${c.b} (regression: worse by > ${(c.threshold * 100).toFixed(1)}%, 95% CI excluding 0)`,
  ];
  for (const m of c.matched) {
    lines.push(`  ${m.key}  (${m.experimentsA.length} vs ${m.experimentsB.length} runs)`);
    for (const x of m.changes) {
      lines.push(
        `    ${x.metric.padEnd(20)} ${num(x.a).padStart(9)} → ${num(x.b).padStart(9)}  ${pct(x.change).padStart(8)} [${pct(x.low)}, ${pct(x.high)}]${x.regression ? "  REGRESSION" : ""}`,
      );
    }
  }
  for (const g of c.groups) {
    const change = g.what === "s" ? `Δs ${num(g.change)}` : pct(g.change);
    const where = g.gpus === null ? g.group : `${g.group} g${g.gpus}`;
    lines.push(
      `  ${g.what} ${where}: ${num(g.a)} → ${num(g.b)}  ${change}${g.regression ? "  REGRESSION" : ""}`,
    );
  }
  if (c.onlyA.length > 0) lines.push(`  only in A: ${c.onlyA.join("; ")}`);
  if (c.onlyB.length > 0) lines.push(`  only in B: ${c.onlyB.join("; ")}`);
  if (c.matched.length === 0) lines.push("  no experiments with the same factors on both sides");
  lines.push(c.regressions === 0 ? "no regressions" : `${c.regressions} regression(s)`);
  return lines;
}

const escapeHtml = (s: string) =>
  s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");

export function comparisonHtml(c: Comparison, generatedAt: string): string {
  const rows = c.matched.flatMap((m) =>
    m.changes.map(
      (x) =>
        `<tr${x.regression ? ' class="bad"' : ""}><td>${escapeHtml(m.key)}</td><td>${x.metric}</td><td>${num(x.a)}</td><td>${num(x.b)}</td><td>${pct(x.change)}</td><td>[${pct(x.low)}, ${pct(x.high)}]</td><td>${x.regression ? "regression" : ""}</td></tr>`,
    ),
  );
  const groups = c.groups.map(
    (g) =>
      `<tr${g.regression ? ' class="bad"' : ""}><td>${escapeHtml(g.group)}</td><td>${g.gpus ?? ""}</td><td>${g.what}</td><td>${num(g.a)}</td><td>${num(g.b)}</td><td>${g.what === "s" ? num(g.change) : pct(g.change)}</td><td>${g.regression ? "regression" : ""}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vscale comparison</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}.bad{background:#fdd}</style>
</head><body>
<h1>Comparison</h1>
<p>A: <code>${escapeHtml(c.a)}</code> → B: <code>${escapeHtml(c.b)}</code>. Change = B / A − 1 with a 95% bootstrap interval from the raw requests; a regression is worse by more than ${(c.threshold * 100).toFixed(1)}% with the interval excluding 0. ${c.regressions} regression(s). Generated ${escapeHtml(generatedAt)}.</p>
<h2>Per experiment set</h2>
<table><tr><th>factors</th><th>metric</th><th>A</th><th>B</th><th>change</th><th>95% CI</th><th></th></tr>
${rows.join("\n")}
</table>
<h2>Fitted s and capacity</h2>
<table><tr><th>group</th><th>GPUs</th><th>figure</th><th>A</th><th>B</th><th>change</th><th></th></tr>
${groups.join("\n")}
</table>
</body></html>
`;
}
