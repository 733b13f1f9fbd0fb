/** The human-readable table `vscale fit` prints (and the campaign runner logs). */

import { distinctNotes, noteLine } from "../../common/distinct-notes.ts";
import { formatTextTable } from "../../common/text-table.ts";
import type { SInterval } from "./bootstrap.ts";
import type { FitResult } from "./model.ts";
import { AICC_MARGIN, PEAK_RANGE, USL_MIN_DISTINCT_N } from "./usl-claim.ts";

function num(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(2);
  if (abs >= 100) return value.toFixed(1);
  return value.toFixed(digits);
}

/** How an interval was made, in words: the campaign's summary lines use it too. */
export function ciMethodLabel(method: SInterval["method"]): string {
  return method === "residual"
    ? "residuals resampled: assumes Amdahl holds"
    : "runs resampled within each N";
}

export function formatFitTable(result: FitResult): string {
  const lines: string[] = [];
  const how =
    result.ci === "residual"
      ? "runs resampled within each N; where a group has no repeats, the fit's residuals (--ci residual, marked ᵣ)"
      : "runs resampled within each N; no interval where a group has no repeats";
  lines.push(
    `Scaling fits of ${result.metric} by ${result.by.join(", ")}: ` +
      `${result.groups.length} fitted, ${result.skipped.length} skipped. ` +
      `95% CI for s: seeded bootstrap, ${how}, B=${result.bootstrap}, seed ${result.seed}.`,
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
        : "none†",
      num(g.amdahl.x1),
      num(g.amdahl.r2, 4),
      num(g.amdahl.rmse),
      num(g.amdahl.ceilingSpeedup, 1),
      `${num(g.amdahl.predicted)} @${g.amdahl.predictAtN}`,
      g.usl.shown ? num(g.usl.sigma, 4) : "-",
      g.usl.shown ? num(g.usl.kappa, 5) : "-",
      g.usl.shown ? num(g.usl.peakN, 1) : "-",
      g.karpFlatt.trend,
    ]);
    lines.push("", formatTextTable([header, ...rows]));
    if (result.groups.some((g) => g.amdahl.ci?.method === "residual")) {
      lines.push(
        "ᵣ no repeats: the CI resamples the fit's residuals (it assumes Amdahl holds, so a biased point widens it instead of moving it); run repeats ≥ 2 for an interval from runs",
      );
    }
    if (result.groups.some((g) => g.amdahl.ci === null))
      lines.push("† no CI for s: the reason is in the notes (without repeats: run repeats ≥ 2)");
    lines.push(
      `USL σ, κ, N* shown only where USL beats Amdahl (AICc lower by > ${AICC_MARGIN}, all points) with ≥ ${USL_MIN_DISTINCT_N} distinct N; N* only within [N min, ${PEAK_RANGE} × N max].`,
    );
    lines.push("", "Karp–Flatt serial fraction e(N) (1/S − 1/N)/(1 − 1/N):");
    for (const g of result.groups) {
      const values = g.karpFlatt.points.map((p) => `N=${p.n} ${num(p.e, 4)}`).join(", ");
      const base = g.karpFlatt.baseline === "fitted" ? " (no N=1 run: S against fitted X1)" : "";
      lines.push(`  ${g.label}: ${values} → ${g.karpFlatt.trend}${base}`);
    }
    // Gustafson reads a load grown with N; under a fixed load its s would misread Amdahl's speedup.
    const weak = result.groups.filter((g) => g.gustafson.scaling === "weak");
    if (weak.length > 0) {
      lines.push(
        "",
        "Gustafson (weak scaling: load per GPU fixed): scaled speedup S(N) = X(N)/X(1), s from S = N − s(N − 1):",
      );
      for (const g of weak) {
        const values = g.gustafson.points.map((p) => `N=${p.n} ${num(p.speedup, 3)}`).join(", ");
        const s = g.gustafson.s;
        const flag = s !== null && (s < 0 || s > 1) ? " (outside [0, 1]: see notes)" : "";
        lines.push(`  ${g.label}: ${values} → s = ${num(s, 4)}${flag}`);
      }
    }
    const other = result.groups.length - weak.length;
    if (other > 0)
      lines.push(
        "",
        `Gustafson: not shown for ${other} group(s) whose load did not grow in proportion to N (strong scaling, or load not recorded).`,
      );
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
