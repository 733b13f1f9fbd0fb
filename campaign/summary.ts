/**
 * The end-of-campaign summary: counts, then every experiment that is not ok,
 * this run's and the failures kept from an earlier run alike, each with its
 * whole cause (a server's log lines included, once per distinct cause).
 */
import type { CampaignResult } from "./run-campaign.ts";

interface NotOk {
  id: string;
  status: string;
  reason: string | null;
}

function causeLines(entries: NotOk[], firstSeen: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const f of entries) {
    const [head = "", ...rest] = (f.reason ?? "no reason recorded").split("\n");
    lines.push(`  ${f.id}  ${f.status}: ${head}`);
    if (rest.length === 0) continue;
    const seen = firstSeen.get(f.reason ?? "");
    if (seen) lines.push(`      (same log as ${seen})`);
    else {
      firstSeen.set(f.reason ?? "", f.id);
      for (const line of rest) lines.push(`      ${line.trim()}`);
    }
  }
  return lines;
}

export function formatCampaignSummary(result: CampaignResult): string {
  const count = (s: string) => result.outcomes.filter((o) => o.status === s).length;
  const skippedOk = result.skipped.filter((s) => s.why === "ok").length;
  const kept = result.skipped.filter((s) => s.why === "failed");
  const lines = [
    `campaign ${result.campaign}: ${count("ok")} ok, ${count("failed")} failed, ` +
      `${count("interrupted")} interrupted; skipped ${skippedOk} already ok` +
      (kept.length ? `, ${kept.length} failed earlier (--retry-failed to re-run)` : "") +
      ` (${(result.wallMs / 1000).toFixed(1)} s)`,
  ];
  const reaped = result.reaped.filter((r) => r.action === "reaped").length;
  if (reaped > 0) lines.push(`stopped ${reaped} server(s) an earlier run had left running`);
  const firstSeen = new Map<string, string>();
  const failures = result.outcomes.filter((o) => o.status !== "ok");
  if (failures.length > 0) lines.push("not ok:", ...causeLines(failures, firstSeen));
  if (kept.length > 0) {
    lines.push(
      "failed in an earlier run (kept):",
      ...causeLines(
        kept.map((k) => ({ id: k.id, status: "failed", reason: k.reason })),
        firstSeen,
      ),
    );
  }
  lines.push(`raw results: ${result.campaignDir}`);
  return lines.join("\n");
}

/** 1 when any experiment of the plan is not ok, including failures kept from an earlier run. */
export function campaignExitCode(result: CampaignResult): 0 | 1 {
  const notOk =
    result.outcomes.some((o) => o.status !== "ok") ||
    result.skipped.some((s) => s.why === "failed");
  return notOk ? 1 : 0;
}
