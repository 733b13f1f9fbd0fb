/**
 * `results/agg/why.csv` (one row per scaling group) and `why_points.csv` (one
 * row per group and GPU count): what the report's "Why not linear" section
 * shows, computed once in analysis/why/why-table.ts. The CSV headers are
 * generated from these columns.
 */
import { type ColumnDef, col } from "./agg-tables.ts";

export const WHY_FILE = "why.csv";
export const WHY_POINTS_FILE = "why_points.csv";

export const WHY_COLUMNS: ColumnDef[] = [
  col("group", "string", "the scaling group, as in the fit tables", false),
  col("s_fit", "float64", "client-side Amdahl s fitted to throughput (analysis/fit)"),
  col("s_fit_low", "float64", "its 95% bootstrap interval, low end"),
  col("s_fit_high", "float64", "its 95% bootstrap interval, high end"),
  col(
    "s_server",
    "float64",
    "server-side serial fraction: share of step time that does not shrink with N, same-shape steps at N > 1 against N = 1 (docs/why.md)",
  ),
  col("s_server_low", "float64", "95% t-interval over shape × N comparisons, low end"),
  col("s_server_high", "float64", "95% t-interval, high end"),
  col("comparisons", "int64", "shape × N comparisons behind s_server", false),
  col(
    "explained",
    "float64",
    "s_server / s_fit: the step timings' serial fraction as a multiple of the fitted s (above 1 when the steps show more than the throughput)",
  ),
  col("sentence", "string", "the report's one-line reading of the two", false),
];

export const WHY_POINT_COLUMNS: ColumnDef[] = [
  col("group", "string", "the scaling group", false),
  col("n", "int64", "GPU count", false),
  col("experiments", "int64", "experiments of the group at this N", false),
  col("steps", "int64", "profiled steps (step_phases.parquet)", false),
  col("schedule_share", "float64", "schedule / step time, summed over steps"),
  col("execute_share", "float64", "execute / step time"),
  col("update_share", "float64", "update / step time"),
  col("step_ms_mean", "float64", "mean step time (ms)"),
  col("karp_flatt_e", "float64", "Karp–Flatt e(N) from the fit (null at N = 1)"),
  col("bottleneck", "string", "the summary's bottleneck classes at this N, distinct, `;`-joined"),
  col(
    "top_kernels",
    "string",
    "the three largest kernels by time share, `name (share)` `;`-joined",
  ),
];

export const RECOMMENDATIONS_FILE = "recommendations.csv";

export const RECOMMENDATION_COLUMNS: ColumnDef[] = [
  col("goal", "string", "`throughput`, `latency`, `memory`, `balanced` (seed 002's plans)", false),
  col("experiment_id", "string", "the recommended experiment; null when no candidate qualifies"),
  col("config", "string", "its factors, `name=value` joined by spaces"),
  col("score", "float64", "the goal's score (docs/why.md: higher is better)"),
  col("output_tokens_per_s", "float64", "its throughput"),
  col("e2e_ms_p99", "float64", "its p99 end-to-end latency (ms)"),
  col("pareto", "bool", "on the throughput–p99-latency Pareto front of the candidates"),
  col("runner_up", "string", "the next-best experiment for this goal"),
  col("margin", "float64", "(score − runner-up score) / |runner-up score|"),
  col("candidates", "int64", "experiments meeting the SLOs (ok, not client-limited)", false),
  col("note", "string", "why there is no recommendation, or what the SLOs were"),
];
