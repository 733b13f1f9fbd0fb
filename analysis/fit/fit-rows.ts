/**
 * One flat row per group (fitted or skipped): the shape of both
 * `amdahl_fit.csv` and `scaling_fits.parquet`.
 */
import { Bool, Float64, Int64, Table, Utf8, vectorFromArray } from "apache-arrow";
import type { FitResult } from "./index.ts";

type Cell = string | number | boolean | null;
type Kind = "string" | "double" | "int" | "bool";

interface Column {
  name: string;
  kind: Kind;
  values: Cell[];
}

function finiteOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

export function fitColumns(result: FitResult): Column[] {
  const keyNames = [...new Set(result.groups.flatMap((g) => Object.keys(g.key)))];
  const all = [
    ...result.groups.map((g) => ({ fitted: g, skipped: null })),
    ...result.skipped.map((s) => ({ fitted: null, skipped: s })),
  ];
  const col = (name: string, kind: Kind, get: (i: number) => Cell): Column => ({
    name,
    kind,
    values: all.map((_, i) => get(i)),
  });
  const fittedAt = (i: number) => all[i]?.fitted ?? null;
  const num =
    (_kind: Kind, f: (g: NonNullable<ReturnType<typeof fittedAt>>) => number | null) =>
    (i: number) => {
      const g = fittedAt(i);
      return g ? finiteOrNull(f(g)) : null;
    };
  const keyKind = (name: string): Kind => {
    const value = all
      .map((a) => (a.fitted ?? a.skipped)?.key[name])
      .find((v) => v !== null && v !== undefined);
    if (typeof value === "number") return "double";
    if (typeof value === "boolean") return "bool";
    return "string";
  };
  return [
    col("group", "string", (i) => (all[i]?.fitted ?? all[i]?.skipped)?.group ?? null),
    ...keyNames.map((k) =>
      col(k, keyKind(k), (i) => (all[i]?.fitted ?? all[i]?.skipped)?.key[k] ?? null),
    ),
    col("metric", "string", () => result.metric),
    col("status", "string", (i) => (fittedAt(i) ? "fitted" : "skipped")),
    col(
      "reason",
      "string",
      (i) => all[i]?.skipped?.reason ?? (fittedAt(i)?.notes.join("; ") || null),
    ),
    col(
      "n_points",
      "int",
      num("int", (g) => g.points.length),
    ),
    col(
      "n_distinct_gpus",
      "int",
      num("int", (g) => g.distinctN.length),
    ),
    col("gpus_measured", "string", (i) => fittedAt(i)?.distinctN.join(";") ?? null),
    col(
      "dropped_points",
      "int",
      num("int", (g) => g.dropped),
    ),
    col(
      "s",
      "double",
      num("double", (g) => g.amdahl.s),
    ),
    col(
      "s_ci_low",
      "double",
      num("double", (g) => g.amdahl.ci?.low ?? null),
    ),
    col(
      "s_ci_high",
      "double",
      num("double", (g) => g.amdahl.ci?.high ?? null),
    ),
    col(
      "bootstrap_b",
      "int",
      num("int", (g) => g.amdahl.ci?.replicates ?? null),
    ),
    col("ci_method", "string", (i) => fittedAt(i)?.amdahl.ci?.method ?? null),
    col(
      "bootstrap_seed",
      "int",
      num("int", () => result.seed),
    ),
    col(
      "x1",
      "double",
      num("double", (g) => g.amdahl.x1),
    ),
    col(
      "s_linear",
      "double",
      num("double", (g) => g.amdahl.sLinear),
    ),
    col("superlinear", "bool", (i) => fittedAt(i)?.amdahl.superlinear ?? null),
    col(
      "r2",
      "double",
      num("double", (g) => g.amdahl.r2),
    ),
    col(
      "rmse",
      "double",
      num("double", (g) => g.amdahl.rmse),
    ),
    col(
      "ceiling_speedup",
      "double",
      num("double", (g) => g.amdahl.ceilingSpeedup),
    ),
    col(
      "ceiling_throughput",
      "double",
      num("double", (g) => g.amdahl.ceilingThroughput),
    ),
    col(
      "predict_gpus",
      "int",
      num("int", (g) => g.amdahl.predictAtN),
    ),
    col(
      "predicted_throughput",
      "double",
      num("double", (g) => g.amdahl.predicted),
    ),
    col(
      "usl_lambda",
      "double",
      num("double", (g) => g.usl.lambda),
    ),
    col(
      "usl_sigma",
      "double",
      num("double", (g) => g.usl.sigma),
    ),
    col(
      "usl_kappa",
      "double",
      num("double", (g) => g.usl.kappa),
    ),
    col(
      "usl_peak_gpus",
      "double",
      num("double", (g) => g.usl.peakN),
    ),
    col(
      "usl_r2",
      "double",
      num("double", (g) => g.usl.r2),
    ),
    col(
      "usl_rmse",
      "double",
      num("double", (g) => g.usl.rmse),
    ),
    col("karp_flatt_trend", "string", (i) => fittedAt(i)?.karpFlatt.trend ?? null),
    col("karp_flatt_baseline", "string", (i) => fittedAt(i)?.karpFlatt.baseline ?? null),
    col(
      "karp_flatt",
      "string",
      (i) =>
        fittedAt(i)
          ?.karpFlatt.points.map((p) => `${p.n}:${p.e.toPrecision(6)}`)
          .join(";") ?? null,
    ),
  ];
}

function csvCell(value: Cell): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function fitCsv(result: FitResult): string {
  const columns = fitColumns(result);
  const rows = columns[0]?.values.length ?? 0;
  const lines = [columns.map((c) => c.name).join(",")];
  for (let r = 0; r < rows; r++)
    lines.push(columns.map((c) => csvCell(c.values[r] ?? null)).join(","));
  return `${lines.join("\n")}\n`;
}

export function fitTable(result: FitResult): Table {
  const vectors = Object.fromEntries(
    fitColumns(result).map((c) => {
      const type =
        c.kind === "double"
          ? new Float64()
          : c.kind === "int"
            ? new Int64()
            : c.kind === "bool"
              ? new Bool()
              : new Utf8();
      const values =
        c.kind === "int"
          ? c.values.map((v) => (v === null ? null : BigInt(v as number)))
          : c.values;
      return [c.name, vectorFromArray(values as never[], type)];
    }),
  );
  return new Table(vectors);
}
