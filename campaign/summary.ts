/** The end-of-campaign summary: counts, and every failure with its reason. */
import type { CampaignResult } from "./run-campaign.ts";

export function formatCampaignSummary(result: CampaignResult): string {
  const count = (s: string) => result.outcomes.filter((o) => o.status === s).length;
  const skippedOk = result.skipped.filter((s) => s.why === "ok").length;
  const skippedFailed = result.skipped.filter((s) => s.why === "failed").length;
  const lines = [
    `campaign ${result.campaign}: ${count("ok")} ok, ${count("failed")} failed, ` +
      `${count("interrupted")} interrupted; skipped ${skippedOk} already ok` +
      (skippedFailed ? `, ${skippedFailed} failed earlier (--retry-failed to re-run)` : "") +
      ` (${(result.wallMs / 1000).toFixed(1)} s)`,
  ];
  const failures = result.outcomes.filter((o) => o.status !== "ok");
  if (failures.length > 0) {
    lines.push("not ok:");
    for (const f of failures)
      lines.push(`  ${f.id}  ${f.status}: ${(f.reason ?? "").split("\n")[0]}`);
  }
  lines.push(`raw results: ${result.campaignDir}`);
  return lines.join("\n");
}
