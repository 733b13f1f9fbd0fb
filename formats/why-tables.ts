/**
 * `results/agg/why.csv` (one row per scaling group) and `why_points.csv` (one
 * row per group and GPU count): what the report's "Why not linear" section
 * shows, computed once in analysis/why/why-table.ts. The CSV headers are
 * generated from these columns.
 */
import { z } from "zod";
import { type ColumnDef, col } from "./agg-tables.ts";
import { zodColumns } from "./zod-columns.ts";

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

export const GOALS = [
  "throughput",
  "throughput_per_gpu",
  "latency",
  "memory",
  "cache",
  "balanced",
] as const;
export type Goal = (typeof GOALS)[number];

/**
 * How firm a choice is: `best`, ahead of the runner-up beyond the 95%
 * interval of run-to-run noise (or by a set configuration value); `tied`,
 * within it; `unreplicated`, ahead in a comparison where one side has a
 * single run, so the noise is not measured; `only`, one configuration to
 * choose from. docs/why.md.
 */
export const VERDICTS = ["best", "tied", "unreplicated", "only"] as const;
export type Verdict = (typeof VERDICTS)[number];

/**
 * One row of `recommendations.csv` per workload and goal: the server
 * configuration chosen for that fixed workload. The one schema of the file:
 * rows are checked against it before they are written, and the header and
 * column docs are read off it.
 */
export const RecommendationRowSchema = z.object({
  context: z
    .string()
    .describe(
      "the fixed workload: its load factors (and campaign, model, mode where they vary), `name=value` joined by spaces",
    ),
  goal: z.enum(GOALS).describe(`one of ${GOALS.map((g) => `\`${g}\``).join(", ")}`),
  verdict: z
    .enum(VERDICTS)
    .nullable()
    .describe(
      "`best`, `tied` (within run-to-run noise of the runner-up), `unreplicated` (a side has one run: noise not measured), `only` (one configuration); null with no candidate",
    ),
  config: z
    .string()
    .nullable()
    .describe("the chosen server configuration: server factors, `name=value` joined by spaces"),
  experiments: z.string().nullable().describe("its runs' experiment ids, joined by `; `"),
  runs: z.int().describe("runs (repeats) of the chosen configuration behind the figures"),
  score: z.number().nullable().describe("the goal's score, mean over runs (higher is better)"),
  score_sd: z.number().nullable().describe("its standard deviation over runs (null below 2)"),
  output_tokens_per_s: z.number().nullable().describe("throughput, mean over runs"),
  e2e_ms_p99: z.number().nullable().describe("p99 end-to-end latency (ms), mean over runs"),
  pareto: z
    .boolean()
    .nullable()
    .describe("on the throughput–p99 Pareto front of this workload's configurations (means)"),
  runner_up: z.string().nullable().describe("the next configuration for this goal"),
  runner_up_runs: z.int().nullable().describe("its runs"),
  margin: z
    .number()
    .nullable()
    .describe("(score − runner-up score) / |runner-up score|, from the means"),
  margin_low: z
    .number()
    .nullable()
    .describe(
      "95% Welch interval of the difference over runs, low end, in the margin's units (null below 2 runs a side)",
    ),
  margin_high: z.number().nullable().describe("its high end"),
  candidates: z
    .int()
    .describe(
      "configurations of this workload meeting the SLOs in every run (ok, not client-limited)",
    ),
  configurations: z.int().describe("configurations of this workload measured"),
  slo: z.string().describe("the objectives, `name<=limit` joined by `; `, or `none`"),
  sentence: z.string().describe("the report's reading of the row; it says no more than the row"),
});
export type RecommendationRow = z.infer<typeof RecommendationRowSchema>;

export const RECOMMENDATION_COLUMNS: ColumnDef[] = zodColumns(RecommendationRowSchema);
