/** The human-readable table `vscale fit` prints (and the campaign runner logs). */

import { distinctNotes, noteLine } from "../../common/distinct-notes.ts";
import { formatTextTable } from "../../common/text-table.ts";
import type { FitResult } from "./model.ts";

function num(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(2);
  if (abs >= 100) return value.toFixed(1);
  return value.toFixed(digits);
}

export function formatFitTable(result: FitResult): string {
  const lines: string[] = [];
  lines.push(
    `Scaling fits of ${result.metric} by ${result.by.join(", ")}: ` +
      `${result.groups.length} fitted, ${result.skipped.length} skipped. ` +
      `95% CI for s: seeded bootstrap (within each N; residuals where a group has no repeats, marked ᵣ), B=${result.bootstrap}, seed ${result.seed}.`,
  );
  if (result.groups.length > 0) {
    const header = [
      "group",
      "points",
      "N",
      "s",
      "95% CI s",
      "X1",
      "R2",
      "RMSE",
      "1/s",
      "X(2Nmax)",
      "USL σ",
      "USL κ",
      "USL N*",
      "e(N)",
    ];
    const rows = result.groups.map((g) => [
      g.label,
      String(g.points.length),
      g.distinctN.join(","),
      `${num(g.amdahl.s, 4)}${g.amdahl.superlinear ? "*" : ""}`,
      g.amdahl.ci
        ? `[${num(g.amdahl.ci.low, 4)}, ${num(g.amdahl.ci.high, 4)}]${g.amdahl.ci.method === "residual" ? "ᵣ" : ""}`
        : "-",
      num(g.amdahl.x1),
      num(g.amdahl.r2, 4),
      num(g.amdahl.rmse),
      num(g.amdahl.ceilingSpeedup, 1),
      `${num(g.amdahl.predicted)} @${g.amdahl.predictAtN}`,
      num(g.usl.sigma, 4),
      num(g.usl.kappa, 5),
      num(g.usl.peakN, 1),
      g.karpFlatt.trend,
    ]);
    lines.push("", formatTextTable([header, ...rows]));
    if (result.groups.some((g) => g.amdahl.ci?.method === "residual")) {
      lines.push(
        "ᵣ no repeats: the CI resamples the fit's residuals (it assumes Amdahl holds); run repeats ≥ 2 for the stronger within-N bootstrap",
      );
    }
    lines.push("", "Karp–Flatt serial fraction e(N) (1/S − 1/N)/(1 − 1/N):");
    for (const g of result.groups) {
      const values = g.karpFlatt.points.map((p) => `N=${p.n} ${num(p.e, 4)}`).join(", ");
      const base = g.karpFlatt.baseline === "fitted" ? " (no N=1 run: S against fitted X1)" : "";
      lines.push(`  ${g.label}: ${values} → ${g.karpFlatt.trend}${base}`);
    }
    lines.push(
      "",
      "Gustafson (weak scaling: load grown with N): scaled speedup S(N) = X(N)/X(1), s from S = N − s(N − 1):",
    );
    for (const g of result.groups) {
      const values = g.gustafson.points.map((p) => `N=${p.n} ${num(p.speedup, 3)}`).join(", ");
      lines.push(`  ${g.label}: ${values} → s = ${num(g.gustafson.s, 4)}`);
    }
    const notes = distinctNotes(result.groups).map((n) => `  ${noteLine(n, result.groups.length)}`);
    if (notes.length > 0) lines.push("", "Notes:", ...notes);
    if (result.groups.some((g) => g.amdahl.superlinear))
      lines.push("", "* super-linear data: s clipped at 0 (see notes).");
  }
  if (result.skipped.length > 0) {
    lines.push("", "Skipped:");
    const reasons = distinctNotes(
      result.skipped.map((s) => ({ label: s.group, notes: [s.reason] })),
    );
    for (const n of reasons)
      lines.push(`  ${noteLine(n, result.skipped.length, "skipped groups")}`);
  }
  if (result.files.length > 0) lines.push("", `Wrote ${result.files.join(", ")}`);
  return lines.join("\n");
}
