/**
 * `results/agg/capacity.csv`: one row per scaling group and GPU count, the
 * capacity at the SLO (analysis/capacity/). The schema documents the file;
 * the CSV header is generated from it.
 */
import { type ColumnDef, col } from "./agg-tables.ts";

export const CAPACITY_FILE = "capacity.csv";

export const CAPACITY_COLUMNS: ColumnDef[] = [
  col(
    "group",
    "string",
    "the scaling group (as in the fit tables: campaign, factors but rate, model, parallelism)",
    false,
  ),
  col("gpus", "int64", "GPU count", false),
  col("slo", "string", "the objectives, `name<=limit` joined by `; `", false),
  col("repeats", "int64", "sweeps (repeats) measured", false),
  col("rates", "int64", "distinct offered rates measured", false),
  col(
    "capacity_rps",
    "float64",
    "highest offered rate (req/s) meeting every objective, interpolated between measured rates; mean over repeats; null when even the lowest rate missed the SLO",
  ),
  col("ci_low", "float64", "95% t-interval over repeats, low end (null below two repeats)"),
  col("ci_high", "float64", "95% t-interval over repeats, high end"),
  col("capacity_per_gpu", "float64", "capacity_rps / gpus"),
  col(
    "bound",
    "string",
    "`interpolated`; `above_range` (the highest rate met the SLO: a lower bound); `below_range` (the lowest missed it)",
    false,
  ),
  col("knee_rate_rps", "float64", "lowest measured rate that missed the SLO (the knee)"),
  col("limited_by", "string", "the objective with the worst margin at the knee"),
];
