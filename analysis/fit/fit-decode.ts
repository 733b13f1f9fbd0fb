/**
 * The fit tables' rows → the FitResult they were written from (fit-rows.ts is
 * the inverse), so `vscale report` draws what `vscale fit` computed without
 * fitting again. Rows come through readTable, already type-checked against
 * formats/fit-tables.ts; this checks what the types do not say.
 */
import { z } from "zod";
import { DataError } from "../../common/errors.ts";
import type { TableRow } from "../../formats/read-table.ts";
import { CI_MODES } from "./bootstrap.ts";
import type { FitOptions, FitResult, GroupFit, GroupKey, SkippedGroup } from "./model.ts";
import { METRICS } from "./summary.ts";

const num = z.number().nullable();
const text = z.string().nullable();

const OptionsSchema = z.looseObject({
  group: z.string(),
  metric: z.enum(METRICS),
  by: z.string(),
  bootstrap: z.number().int(),
  seed: z.number().int(),
  ci: z.enum(CI_MODES).nullable().optional(),
  exclude_client_limited: z.boolean().nullable().optional(),
  status: z.enum(["fitted", "skipped"]),
  reason: text,
});

const FittedSchema = z.looseObject({
  label: z.string(),
  gpus_measured: z.string(),
  dropped_points: z.number().int(),
  s: num,
  s_ci_low: num,
  s_ci_high: num,
  bootstrap_b: num,
  ci_method: z.enum(["within-n", "residual"]).nullable(),
  ci_note: text,
  x1: num,
  s_linear: num,
  superlinear: z.boolean(),
  r2: num,
  rmse: num,
  ceiling_speedup: num,
  ceiling_throughput: num,
  predict_gpus: z.number(),
  predicted_throughput: num,
  usl_lambda: num,
  usl_sigma: num,
  usl_kappa: num,
  usl_peak_gpus: num,
  usl_r2: num,
  usl_rmse: num,
  // Absent in fit tables written before USL was selected by AICc: decoded as not shown.
  usl_shown: z.boolean().nullable().optional(),
  aicc_amdahl: num.optional(),
  aicc_usl: num.optional(),
  load_scaling: z.enum(["weak", "strong", "unknown"]).nullable().optional(),
  karp_flatt_trend: z.enum(["rising", "falling", "flat", "n/a"]),
  karp_flatt_baseline: z.enum(["measured", "fitted"]),
  karp_flatt: z.string(),
  // Absent in fit tables written before Gustafson was reported: decoded as none.
  gustafson_s: num.optional(),
  scaled_speedup: z.string().nullable().optional(),
  notes: z.string(),
  points: z.string(),
  experiments: z.string(),
});

const StringList = z.array(z.string());

function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  file: string,
  row: number,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new DataError(`row ${row}: ${issue?.message ?? "invalid row"}`, {
    file,
    field: issue?.path.join("."),
  });
}

function stringList(text: string, field: string, file: string, row: number): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DataError(`row ${row}: expected a JSON array of strings`, { file, field });
  }
  return parse(StringList, value, file, row);
}

/** `N:value;N:value` (full-precision numbers) → pairs. */
function pairs(text: string): [number, number][] {
  if (text === "") return [];
  return text.split(";").map((pair) => {
    const [n = "", v = ""] = pair.split(":");
    return [Number(n), Number(v)];
  });
}

/** Gustafson's figures only for a weak-scaling group (older tables held them for every group). */
function gustafsonOf(
  scaling: GroupFit["gustafson"]["scaling"],
  s: number | null | undefined,
  speedups: string | null | undefined,
): GroupFit["gustafson"] {
  if (scaling !== "weak") return { scaling, s: null, points: [] };
  return {
    scaling,
    s: s ?? null,
    points: pairs(speedups ?? "").map(([n, speedup]) => ({ n, speedup })),
  };
}

/** The model's non-null numbers were written as null when not finite. */
const real = (value: number | null): number => value ?? Number.NaN;

function fittedGroup(row: TableRow, key: GroupKey, file: string, at: number): GroupFit {
  const r = parse(FittedSchema, row, file, at);
  const head = parse(OptionsSchema, row, file, at);
  const ci =
    r.s_ci_low !== null && r.s_ci_high !== null && r.bootstrap_b !== null && r.ci_method
      ? { low: r.s_ci_low, high: r.s_ci_high, replicates: r.bootstrap_b, method: r.ci_method }
      : null;
  return {
    group: head.group,
    label: r.label,
    key,
    experiments: stringList(r.experiments, "experiments", file, at),
    points: pairs(r.points).map(([n, x]) => ({ n, x })),
    distinctN: r.gpus_measured === "" ? [] : r.gpus_measured.split(";").map(Number),
    dropped: r.dropped_points,
    amdahl: {
      s: real(r.s),
      x1: real(r.x1),
      ci,
      ciNote: r.ci_note,
      sLinear: real(r.s_linear),
      superlinear: r.superlinear,
      r2: real(r.r2),
      rmse: real(r.rmse),
      ceilingSpeedup: r.ceiling_speedup,
      ceilingThroughput: r.ceiling_throughput,
      predictAtN: r.predict_gpus,
      predicted: real(r.predicted_throughput),
    },
    usl: {
      lambda: real(r.usl_lambda),
      sigma: real(r.usl_sigma),
      kappa: real(r.usl_kappa),
      // Older tables stored every fitted peak: claimed only where USL was shown.
      peakN: r.usl_shown ? r.usl_peak_gpus : null,
      r2: real(r.usl_r2),
      rmse: real(r.usl_rmse),
      shown: r.usl_shown ?? false,
      aiccAmdahl: r.aicc_amdahl ?? null,
      aiccUsl: r.aicc_usl ?? null,
    },
    karpFlatt: {
      baseline: r.karp_flatt_baseline,
      trend: r.karp_flatt_trend,
      points: pairs(r.karp_flatt).map(([n, e]) => ({ n, e })),
    },
    gustafson: gustafsonOf(r.load_scaling ?? "unknown", r.gustafson_s, r.scaled_speedup),
    notes: stringList(r.notes, "notes", file, at),
  };
}

/** The key in groupRows' order: the `by` columns, `parallelism` last. */
function keyOf(row: TableRow, by: readonly string[]): GroupKey {
  const order = [
    ...by.filter((c) => c !== "parallelism"),
    ...(by.includes("parallelism") ? ["parallelism"] : []),
  ];
  return Object.fromEntries(order.map((c) => [c, row[c] ?? null]));
}

/**
 * The result the rows hold, or null when they cannot say which options they
 * were fitted with (no rows, or a table from before the options were recorded).
 */
export function decodeFitRows(
  rows: readonly TableRow[],
  columns: readonly string[],
  file: string,
): FitResult | null {
  if (rows.length === 0 || !["by", "bootstrap", "seed"].every((c) => columns.includes(c)))
    return null;
  const first = parse(OptionsSchema, rows[0], file, 1);
  const options: FitOptions = {
    metric: first.metric,
    by: first.by === "" ? [] : first.by.split(","),
    bootstrap: first.bootstrap,
    seed: first.seed,
    ci: first.ci ?? "residual",
    excludeClientLimited: first.exclude_client_limited ?? false,
  };
  const groups: GroupFit[] = [];
  const skipped: SkippedGroup[] = [];
  rows.forEach((row, i) => {
    const head = parse(OptionsSchema, row, file, i + 1);
    const key = keyOf(row, options.by);
    if (head.status === "fitted") groups.push(fittedGroup(row, key, file, i + 1));
    else skipped.push({ group: head.group, key, reason: head.reason ?? "" });
  });
  return { ...options, groups, skipped, files: [] };
}
