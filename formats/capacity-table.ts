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
    "highest offered rate (req/s) meeting every objective, interpolated between measured rates, mean over repeats; when `bound` is set, the bound's figure instead (≥ or <); null when repeats disagree (some lower, some upper bounds)",
  ),
  col(
    "ci_low",
    "float64",
    "95% t-interval over repeats, low end (null below two repeats and for a bound)",
  ),
  col("ci_high", "float64", "95% t-interval over repeats, high end"),
  col("capacity_per_gpu", "float64", "capacity_rps / gpus (a bound too when `bound` is set)"),
  col(
    "bound",
    "string",
    "null: an interpolated estimate; `lower`: capacity ≥ capacity_rps (every rate met the SLO in some repeat, or the rate past it has no figure); `upper`: capacity < capacity_rps (the lowest rate missed it)",
  ),
  col("knee_rate_rps", "float64", "lowest measured rate that missed the SLO (the knee)"),
  col("limited_by", "string", "the objective with the worst margin at the knee"),
];
