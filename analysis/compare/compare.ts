/**
 * `vscale compare A B`: experiments matched by factors; per matched set and
 * metric the change B / A − 1 with a hierarchical bootstrap interval (runs,
 * then requests within runs: bootstrap-change.ts) and the verdict
 * (verdict.ts); per scaling group the change in fitted s and, with
 * an SLO, in capacity (both from each side's agg/summary.parquet, through
 * the same computeFits() and capacityRows() every other output uses).
 */

import { existsSync } from "node:fs";
import { DataError } from "../../common/errors.ts";
import type { Warn } from "../aggregate/ndjson-lines.ts";
import type { Slo } from "../capacity/capacity.ts";
import { capacityRows } from "../capacity/table.ts";
import { computeFits } from "../fit/compute.ts";
import type { GroupKey } from "../fit/model.ts";
import { readSummary, type Summary, summaryPath } from "../fit/summary.ts";
import { readSide, type Side } from "./read-sides.ts";
import { judgeSet, type SetVerdict } from "./verdict.ts";

export interface CompareOptions {
  a: string;
  b: string;
  /** A regression is a change worse than this fraction (0.05 = 5%) whose interval excludes 0. */
  threshold: number;
  /** Bootstrap replicates per figure. */
  bootstrap: number;
  seed: number;
  slo?: Slo;
  warn: Warn;
}

export type { MetricChange } from "./verdict.ts";

export interface MatchedSet extends SetVerdict {
  key: string;
  experimentsA: string[];
  experimentsB: string[];
}

export interface GroupChange {
  /** The scaling group without its campaign (what both sides share). */
  group: string;
  gpus: number | null;
  what: "s" | "capacity_rps";
  a: number | null;
  b: number | null;
  /** s: B − A; capacity: B / A − 1. */
  change: number | null;
  regression: boolean;
}

export interface Comparison {
  a: string;
  b: string;
  threshold: number;
  bootstrap: number;
  seed: number;
  matched: MatchedSet[];
  onlyA: string[];
  onlyB: string[];
  groups: GroupChange[];
  regressions: number;
}

const withoutCampaign = (key: GroupKey) =>
  Object.entries(key)
    .filter(([k, v]) => k !== "campaign" && v !== null && v !== "")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

async function sideSummary(side: Side, warn: Warn): Promise<Summary | null> {
  if (!existsSync(summaryPath(side.resultsDir))) {
    warn(
      `${side.path}: no agg/summary.parquet (run vscale aggregate): fitted s and capacity not compared`,
    );
    return null;
  }
  const summary = await readSummary(side.resultsDir);
  if (side.campaign === undefined) return summary;
  return { ...summary, rows: summary.rows.filter((r) => r.campaign === side.campaign) };
}

function groupChanges(a: Summary, b: Summary, opts: CompareOptions): GroupChange[] {
  const out: GroupChange[] = [];
  const fitOf = (s: Summary) => {
    try {
      return computeFits(s, { bootstrap: 0, seed: opts.seed });
    } catch (error) {
      opts.warn(`fits: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  };
  const [fa, fb] = [fitOf(a), fitOf(b)];
  if (fa && fb) {
    const sB = new Map(fb.groups.map((g) => [withoutCampaign(g.key), g.amdahl.s]));
    for (const g of fa.groups) {
      const group = withoutCampaign(g.key);
      const sb = sB.get(group);
      if (sb === undefined) continue;
      const change = sb - g.amdahl.s;
      // A larger serial fraction is worse scaling: a regression when it grows by the threshold.
      out.push({
        group,
        gpus: null,
        what: "s",
        a: g.amdahl.s,
        b: sb,
        change,
        regression: change > opts.threshold,
      });
    }
  }
  if (opts.slo) {
    const cb = new Map(
      capacityRows(b, opts.slo).map((r) => [`${withoutCampaign(r.key)}|${r.gpus}`, r.result]),
    );
    for (const r of capacityRows(a, opts.slo)) {
      const group = withoutCampaign(r.key);
      const before = r.result.capacity;
      const other = cb.get(`${group}|${r.gpus}`);
      if (other === undefined) continue;
      // A bound (every rate met, or none met, the SLO) is no estimate: a change from it is unknown.
      if (r.result.bound !== null || other.bound !== null) {
        opts.warn(
          `capacity of ${group} at ${r.gpus} GPU(s): a bound on ${r.result.bound !== null ? "side A" : "side B"} (every tested rate met or missed the SLO); not compared`,
        );
        continue;
      }
      const after = other.capacity;
      const change = before !== null && after !== null && before > 0 ? after / before - 1 : null;
      out.push({
        group,
        gpus: r.gpus,
        what: "capacity_rps",
        a: before,
        b: after,
        change,
        regression:
          (change !== null && change < -opts.threshold) || (before !== null && after === null),
      });
    }
  }
  return out;
}

export async function compareResults(opts: CompareOptions): Promise<Comparison> {
  const [a, b] = [await readSide(opts.a, opts.warn), await readSide(opts.b, opts.warn)];
  if (![...a.sets.keys()].some((k) => b.sets.has(k))) {
    // "no regressions" would read as a pass: with nothing in common nothing was compared.
    const sample = (keys: string[]) => (keys.length > 0 ? keys[0] : "no ok experiments");
    throw new DataError("nothing to compare: no experiment of A has the factors of one of B", {
      file: `${opts.a} ↔ ${opts.b}`,
      hint: `A has e.g. ${sample([...a.sets.keys()])}; B has e.g. ${sample([...b.sets.keys()])}`,
    });
  }
  const matched: MatchedSet[] = [];
  for (const [key, sa] of a.sets) {
    const sb = b.sets.get(key);
    if (!sb) continue;
    matched.push({
      key,
      experimentsA: sa.experiments,
      experimentsB: sb.experiments,
      ...judgeSet(sa.runs, sb.runs, opts),
    });
  }
  const onlyA = [...a.sets.keys()].filter((k) => !b.sets.has(k));
  const onlyB = [...b.sets.keys()].filter((k) => !a.sets.has(k));
  const [sumA, sumB] = [await sideSummary(a, opts.warn), await sideSummary(b, opts.warn)];
  const groups = sumA && sumB ? groupChanges(sumA, sumB, opts) : [];
  const regressions =
    matched.reduce((n, m) => n + m.changes.filter((c) => c.regression).length, 0) +
    groups.filter((g) => g.regression).length;
  return {
    a: opts.a,
    b: opts.b,
    threshold: opts.threshold,
    bootstrap: opts.bootstrap,
    seed: opts.seed,
    matched,
    onlyA,
    onlyB,
    groups,
    regressions,
  };
}
