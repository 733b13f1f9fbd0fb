/**
 * The report page: a campaign header, the fit table, then every figure's SVG
 * inlined, so the file opens from disk with no network and no scripts.
 */
import { distinctNotes, noteLine } from "../../common/distinct-notes.ts";
import { FACTOR_NAMES } from "../../config/schema.ts";
import type { FitResult } from "../fit/model.ts";
import type { SummaryRow } from "../fit/summary.ts";
import type { ExperimentMeta } from "./inputs.ts";

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function distinct(values: readonly unknown[]): string[] {
  return [
    ...new Set(values.filter((v) => v !== null && v !== undefined && v !== "").map(String)),
  ].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

function fmt(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? "–"
    : value.toPrecision(digits);
}

function headerRows(
  rows: readonly SummaryRow[],
  columns: readonly string[],
  meta: ExperimentMeta[],
): [string, string][] {
  const list = (name: string) => distinct(rows.map((r) => r[name])).join(", ") || "–";
  const started = distinct(meta.map((m) => m.startedAt))[0];
  const finishedAll = distinct(meta.map((m) => m.finishedAt));
  const finished = finishedAll[finishedAll.length - 1];
  const matrix = FACTOR_NAMES.filter((f) => columns.includes(f))
    .map((f) => `${f} ∈ {${list(f)}}`)
    .join("; ");
  return [
    ["campaign", list("campaign")],
    ["model", columns.includes("model") ? list("model") : "–"],
    [
      "server",
      `${distinct(meta.map((m) => m.serverKind)).join(", ") || "–"}; version ${distinct(meta.map((m) => m.serverVersion)).join(", ") || "unknown"}`,
    ],
    [
      "load",
      ["engine", "mode", "api"]
        .filter((c) => columns.includes(c))
        .map((c) => `${c} ${list(c)}`)
        .join("; ") || "–",
    ],
    ["matrix", matrix || "–"],
    [
      "dates",
      started ? `${started} → ${finished ?? "unfinished"}` : "no raw experiment.json found",
    ],
    [
      "versions",
      `vscale ${distinct(meta.map((m) => m.vscaleVersion)).join(", ") || "–"}; node ${distinct(meta.map((m) => m.node)).join(", ") || "–"}`,
    ],
    ["experiments", `${rows.length} (${rows.filter((r) => r.status === "ok").length} ok)`],
  ];
}

function fitTableHtml(fits: FitResult): string {
  const head = [
    "group",
    "points",
    "N",
    "s",
    "95% CI for s",
    "X₁",
    "R²",
    "1/s",
    "USL σ",
    "USL κ",
    "USL N*",
    "Karp–Flatt",
  ];
  const body = fits.groups.map((g) =>
    [
      g.label,
      String(g.points.length),
      g.distinctN.join(", "),
      `${fmt(g.amdahl.s)}${g.amdahl.superlinear ? " (super-linear, clipped)" : ""}`,
      g.amdahl.ci
        ? `[${fmt(g.amdahl.ci.low)}, ${fmt(g.amdahl.ci.high)}] (${g.amdahl.ci.method === "residual" ? "residuals resampled: assumes Amdahl" : "runs resampled"})`
        : (g.amdahl.ciNote ?? "–"),
      fmt(g.amdahl.x1),
      fmt(g.amdahl.r2),
      fmt(g.amdahl.ceilingSpeedup, 3),
      // USL's parameters only where it beat Amdahl by AICc (usl-claim.ts).
      g.usl.shown ? fmt(g.usl.sigma) : "not preferred",
      g.usl.shown ? fmt(g.usl.kappa, 3) : "–",
      g.usl.shown ? fmt(g.usl.peakN, 3) : "–",
      g.karpFlatt.trend,
    ]
      .map((c) => `<td>${escapeHtml(c)}</td>`)
      .join(""),
  );
  // Each note once, naming the groups it applies to: a note true of every group is one bullet.
  const skipped = distinctNotes(fits.skipped.map((s) => ({ label: s.group, notes: [s.reason] })))
    .map((n) => `<li>${escapeHtml(noteLine(n, fits.skipped.length, "skipped groups"))}</li>`)
    .join("");
  const notes = distinctNotes(fits.groups)
    .map((n) => `<li>${escapeHtml(noteLine(n, fits.groups.length))}</li>`)
    .join("");
  return [
    `<p>Metric <code>${escapeHtml(fits.metric)}</code>; 95% CI for s by seeded bootstrap (${ciMethodText(fits)}), B = ${fits.bootstrap}, seed ${fits.seed}.</p>`,
    `<table class="fits"><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>${body.map((r) => `<tr>${r}</tr>`).join("")}</table>`,
    notes ? `<h3>Notes</h3><ul>${notes}</ul>` : "",
    skipped ? `<h3>Skipped groups</h3><ul>${skipped}</ul>` : "",
  ].join("\n");
}

function failuresHtml(rows: readonly SummaryRow[]): string {
  const failed = rows.filter((r) => r.status !== "ok");
  if (failed.length === 0) return "<p>No failed or interrupted experiments.</p>";
  return `<table class="failures"><tr><th>experiment</th><th>status</th><th>reason</th></tr>${failed
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.experiment_id)}</td><td>${escapeHtml(r.status)}</td><td>${escapeHtml(String(r.status_reason ?? "–"))}</td></tr>`,
    )
    .join("")}</table>`;
}

export interface RenderedFigure {
  name: string;
  section: string;
  svg: string;
  points: number;
}

// Wide enough for two scaling charts (plot, legend) side by side at ~1400 px.
const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:0.5rem 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
th{background:#f3f3f3}figure{display:inline-block;margin:0.5rem;vertical-align:top}
figcaption{font-size:0.8rem;color:#666}h2{border-bottom:1px solid #ddd;margin-top:2rem}`;

export function reportHtml(opts: {
  fits: FitResult;
  rows: readonly SummaryRow[];
  columns: readonly string[];
  meta: ExperimentMeta[];
  figures: RenderedFigure[];
  generatedAt: string;
  /** Sections rendered elsewhere (why-section.ts), placed after the fits. */
  sectionsHtml?: string;
}): string {
  const sections = new Map<string, RenderedFigure[]>();
  for (const f of opts.figures) sections.set(f.section, [...(sections.get(f.section) ?? []), f]);
  const header = headerRows(opts.rows, opts.columns, opts.meta)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("");
  const body = [...sections.entries()]
    .map(
      ([section, figs]) =>
        `<h2>${escapeHtml(section)}</h2>\n${figs
          .map(
            (f) =>
              `<figure class="chart" data-chart="${escapeHtml(f.name)}" data-points="${f.points}">${f.svg}<figcaption>figs/${escapeHtml(f.name)}.svg</figcaption></figure>`,
          )
          .join("\n")}`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vscale report</title><style>${STYLE}</style></head>
<body>
<h1>vscale scaling report</h1>
<table class="header">${header}</table>
<p>Generated ${escapeHtml(opts.generatedAt)}.</p>
<h2>Scaling fits</h2>
${fitTableHtml(opts.fits)}
${opts.sectionsHtml ?? ""}
<h2>Failures</h2>
${failuresHtml(opts.rows)}
${body}
</body></html>
`;
}

/** Which bootstrap produced the intervals: within-N resampling needs repeats. */
function ciMethodText(fits: { groups: { amdahl: { ci: { method: string } | null } }[] }): string {
  const methods = new Set(fits.groups.map((g) => g.amdahl.ci?.method).filter(Boolean));
  if (methods.size === 0) return "no interval could be computed";
  if (methods.has("residual") && methods.has("within-n"))
    return "resampling repeats within each N; residuals of the fit where a group has no repeats";
  return methods.has("residual")
    ? "no repeats, so the fit's residuals are resampled: the interval assumes Amdahl holds"
    : "resampling repeats within each N";
}
