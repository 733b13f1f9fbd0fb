/**
 * What a matrix expands to: the experiments a campaign runs, the server
 * groups that run them (one server start each) and the plan holding both.
 * The campaign runner, the raw writer and resume consume these types.
 */
import type { FactorName, FactorValue } from "./factors.ts";
import type { LoadConfig, Matrix, PromptSetSpec, ServerConfig } from "./schema.ts";

export type Assignment = Partial<Record<FactorName, FactorValue>>;

export interface Experiment {
  /** Readable, stable, filesystem-safe: `g4-tp4-u64-medium-mt128-r1`. */
  id: string;
  /** 1-based. */
  repeat: number;
  /** Per-experiment seed, derived from the matrix seed and the id (stable across edits). */
  seed: number;
  /** Every factor assigned, including the derived gpus, tp and dp. */
  factors: Assignment & { gpus: number; tp: number; dp: number };
  /** True when the experiment comes from an `include` rule. */
  included: boolean;
  groupId: string;
  /** The `load` section with this experiment's load factors applied. */
  load: LoadConfig;
  promptSet: { name: string; spec: PromptSetSpec };
}

export interface ServerGroup {
  /** Readable and stable: the server factors, e.g. `g4-tp4` or `g2-tp1-dp2-mns64`. */
  id: string;
  kind: ServerConfig["kind"];
  model: string;
  host: string;
  port: number | "auto";
  /**
   * Resolved argv. For `sim` it starts with `vscale` (the runner substitutes
   * its own entry point). `{port}` (when port is auto) and `{api_key}` remain
   * as placeholders, filled only when the server starts: see `runtimeArgv`.
   */
  argv: string[];
  /** Environment additions; `${NAME}` values are copied from the runner's env at start. */
  env: Record<string, string>;
  /** Base URL for `external`; for started servers it is derived from host and port. */
  url: string | undefined;
  gpus: number;
  healthTimeoutMs: number;
  startEstimateMs: number;
  experimentIds: string[];
}

export interface Plan {
  file: string;
  baseDir: string;
  matrix: Matrix;
  campaign: string;
  experiments: Experiment[];
  groups: ServerGroup[];
  estimate: {
    /** Sum of warm-up + duration over experiments. */
    loadMs: number;
    /** Sum of start estimates over server groups. */
    serverStartMs: number;
    totalMs: number;
  };
}
