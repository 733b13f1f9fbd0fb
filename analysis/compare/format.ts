/**
 * A Comparison as console lines and as a self-contained HTML page (the
 * report's comparison page): both from the same Comparison value.
 */
import type { Comparison, MatchedSet, MetricChange } from "./compare.ts";

const pct = (v: number | null) =>
  v === null ? "-" : `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)}%`;
const num = (v: number | null) =>
  v === null ? "-" : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3);

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** The rule, in the words both outputs print. */
function rule(c: Comparison): string {
  return `regression: worse by > ${(c.threshold * 100).toFixed(1)}% with the 95% CI excluding 0 and beyond the A/A noise floor for its runs; hierarchical bootstrap B = ${c.bootstrap}, seed ${c.seed}`;
}

/** What a set's intervals can say. */
export function setNote(m: MatchedSet): string {
  const runs = `A: ${plural(m.experimentsA.length, "run")}, B: ${plural(m.experimentsB.length, "run")}`;
  return m.fromRuns
    ? `${runs}; intervals resample runs`
    : `${runs}; one run on a side cannot separate a change from run-to-run noise: intervals are within-run only, and nothing within the noise floor is called a regression`;
}

/** How the interval was made and from how many values a side (A/B). */
export function intervalFrom(x: MetricChange): string {
  const runs = `${x.runsA}/${x.runsB}`;
  const n = `${x.nA}/${x.nB}`;
  switch (x.method) {
    case "runs":
      return `runs ${runs}`;
    case "runs, then requests":
      return `runs ${runs}, then requests ${n}`;
    case "time bins within runs":
      return `time bins ${n} within runs`;
    case "requests within runs":
      return `requests ${n} within runs`;
  }
}

function verdictText(x: MetricChange): string {
  if (x.flag !== null) return `  null: ${x.flag}`;
  const floor = x.floor > 0 ? `, noise floor ${(x.floor * 100).toFixed(1)}%` : "";
  return `  from ${intervalFrom(x)}${floor}${x.regression ? "  REGRESSION" : ""}`;
}

export function formatComparison(c: Comparison): string[] {
  const lines = [`compare ${c.a} → ${c.b} (${rule(c)})`];
  for (const m of c.matched) {
    lines.push(`  ${m.key}  (${setNote(m)})`);
    for (const x of m.changes) {
      lines.push(
        `    ${x.metric.padEnd(20)} ${num(x.a).padStart(9)} → ${num(x.b).padStart(9)}  ${pct(x.change).padStart(8)} [${pct(x.low)}, ${pct(x.high)}]${verdictText(x)}`,
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
  const rows = c.matched.flatMap((m) => [
    `<tr><td colspan="8">${escapeHtml(m.key)}: ${escapeHtml(setNote(m))}</td></tr>`,
    ...m.changes.map(
      (x) =>
        `<tr${x.regression ? ' class="bad"' : ""}><td>${escapeHtml(m.key)}</td><td>${x.metric}</td><td>${num(x.a)}</td><td>${num(x.b)}</td><td>${pct(x.change)}</td><td>[${pct(x.low)}, ${pct(x.high)}]</td><td>${x.flag ?? intervalFrom(x)}</td><td>${x.regression ? "regression" : x.floor > 0 ? `floor ${(x.floor * 100).toFixed(1)}%` : ""}</td></tr>`,
    ),
  ]);
  const groups = c.groups.map(
    (g) =>
      `<tr${g.regression ? ' class="bad"' : ""}><td>${escapeHtml(g.group)}</td><td>${g.gpus ?? ""}</td><td>${g.what}</td><td>${num(g.a)}</td><td>${num(g.b)}</td><td>${g.what === "s" ? num(g.change) : pct(g.change)}</td><td>${g.regression ? "regression" : ""}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vscale comparison</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}.bad{background:#fdd}</style>
</head><body>
<h1>Comparison</h1>
<p>A: <code>${escapeHtml(c.a)}</code> → B: <code>${escapeHtml(c.b)}</code>. Change = B / A − 1 with a 95% interval from a hierarchical bootstrap (runs, then requests within runs; within-run only where a side has one run). ${escapeHtml(rule(c))}. ${c.regressions} regression(s). Generated ${escapeHtml(generatedAt)}.</p>
<h2>Per experiment set</h2>
<table><tr><th>factors</th><th>metric</th><th>A</th><th>B</th><th>change</th><th>95% CI</th><th>interval from (A/B)</th><th></th></tr>
${rows.join("\n")}
</table>
<h2>Fitted s and capacity</h2>
<table><tr><th>group</th><th>GPUs</th><th>figure</th><th>A</th><th>B</th><th>change</th><th></th></tr>
${groups.join("\n")}
</table>
</body></html>
`;
}
