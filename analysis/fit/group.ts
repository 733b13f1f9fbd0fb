/**
 * Which experiments share a scaling curve. A group is the campaign, every
 * factor except the GPU count and what derives from it (gpus, tp, dp), the
 * model and a derived `parallelism` (tp, dp or tp×dp), so a TP and a DP
 * campaign in one file are separate curves, and so are two campaigns
 * aggregated together (pooling them would treat one campaign's repeats as
 * another's and shrink the CI: issue 11). `--by` without `campaign` pools on
 * purpose.
 */
import { ConfigError } from "../../common/errors.ts";
import { FACTOR_NAMES } from "../../config/schema.ts";
import { FIT_GROUP_COLUMN, FIT_VALUE_COLUMNS } from "../../formats/fit-tables.ts";
import type { GroupKey } from "./model.ts";
import type { SummaryRow } from "./summary.ts";

const GPU_COLUMNS = new Set(["gpus", "tp", "dp"]);

export interface Group {
  /** Full key, `name=value` joined by spaces: stable across runs of the same file. */
  id: string;
  key: GroupKey;
  rows: SummaryRow[];
}

export function parallelismOf(row: Pick<SummaryRow, "gpus" | "tp" | "dp">): string {
  if (row.tp === row.gpus && row.dp === 1) return "tp";
  if (row.dp === row.gpus && row.tp === 1) return "dp";
  return "tp×dp";
}

/** The default key: campaign, factor columns present in the file (minus GPU ones), model, parallelism. */
export function defaultGroupColumns(columns: readonly string[]): string[] {
  // A sweep's rates differ per GPU count (they come from its own measurements): its step is the key.
  const sweep = columns.includes("sweep_step");
  const factors = FACTOR_NAMES.filter(
    (f) => columns.includes(f) && !GPU_COLUMNS.has(f) && !(sweep && f === "rate"),
  );
  return [
    ...(columns.includes("campaign") ? ["campaign"] : []),
    ...factors,
    ...(columns.includes("model") ? ["model"] : []),
    "parallelism",
  ];
}

export function checkByColumns(by: readonly string[], columns: readonly string[]): void {
  for (const name of by) {
    if (name === "parallelism" || columns.includes(name)) continue;
    const usable = defaultGroupColumns(columns).join(", ");
    throw new ConfigError(`unknown column "${name}" to group by`, {
      field: "--by",
      hint: GPU_COLUMNS.has(name)
        ? "the GPU count is the x axis of every fit; it cannot be a group key"
        : `expected one of ${usable}`,
    });
  }
  // Key columns sit beside the fit's own columns in the fit tables: a name clash would hide one.
  const taken = new Set<string>([FIT_GROUP_COLUMN.name, ...FIT_VALUE_COLUMNS.map((c) => c.name)]);
  const clash = by.find((n) => taken.has(n));
  if (clash)
    throw new ConfigError(`cannot group by "${clash}"`, {
      field: "--by",
      hint: "the fit tables have a column of that name (formats/fit-tables.ts)",
    });
  const gpu = by.find((n) => GPU_COLUMNS.has(n));
  if (gpu)
    throw new ConfigError(`cannot group by "${gpu}"`, {
      field: "--by",
      hint: "the GPU count is the x axis of every fit; it cannot be a group key",
    });
}

function keyId(key: GroupKey): string {
  return Object.entries(key)
    .filter(([, v]) => v !== null && v !== "")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/**
 * Single-GPU rows (tp = dp = 1) are the N = 1 point of every parallelism:
 * they join each group that matches them on the other keys, or form a `tp`
 * group when none does.
 */
export function groupRows(rows: readonly SummaryRow[], columns: readonly string[]): Group[] {
  const byParallelism = columns.includes("parallelism");
  const others = columns.filter((c) => c !== "parallelism");
  const baseKey = (row: SummaryRow): GroupKey =>
    Object.fromEntries(others.map((c) => [c, row[c] ?? null]));
  const groups = new Map<string, Group>();
  const single: SummaryRow[] = [];
  for (const row of rows) {
    if (byParallelism && row.gpus === 1) {
      single.push(row);
      continue;
    }
    const key = { ...baseKey(row), ...(byParallelism ? { parallelism: parallelismOf(row) } : {}) };
    const id = keyId(key);
    const group: Group = groups.get(id) ?? { id, key, rows: [] };
    group.rows.push(row);
    groups.set(id, group);
  }
  for (const row of single) {
    const base = keyId(baseKey(row));
    const matches = [...groups.values()].filter(
      (g) => keyId(Object.fromEntries(others.map((c) => [c, g.key[c] ?? null]))) === base,
    );
    if (matches.length > 0) {
      for (const g of matches) g.rows.push(row);
      continue;
    }
    const key = { ...baseKey(row), parallelism: "tp" };
    const id = keyId(key);
    const group: Group = groups.get(id) ?? { id, key, rows: [] };
    group.rows.push(row);
    groups.set(id, group);
  }
  return [...groups.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** A short label: only the key columns whose value differs between groups. */
export function groupLabels(groups: readonly Group[]): Map<string, string> {
  const varying = new Set<string>();
  const names = new Set(groups.flatMap((g) => Object.keys(g.key)));
  for (const name of names) {
    const values = new Set(groups.map((g) => String(g.key[name] ?? "")));
    if (values.size > 1) varying.add(name);
  }
  return new Map(
    groups.map((g) => {
      const parts = [...varying]
        .filter((k) => g.key[k] !== null && g.key[k] !== undefined)
        .map((k) => `${k}=${g.key[k]}`);
      return [g.id, parts.length > 0 ? parts.join(" ") : "all"];
    }),
  );
}
