/**
 * The measured signals the bottleneck class is decided from (seed
 * 002_eceddc5d9b8009c0), one experiment at a time: the summary row's client
 * guard, GPU, KV-cache, preemption, queue and prefix-cache figures with the
 * prompt set's prefix share, and the step-phase rows of
 * its server profile (seed 000's step CSVs). A signal that was not measured is
 * null, never 0: the classifier then cannot use it.
 */

import type { TableDef } from "../../formats/agg-tables.ts";
import { STEP_PHASES_TABLE } from "../../formats/profile-tables.ts";
import type { Row } from "../aggregate/duck.ts";
import { type ProfileKey, ProfileSinks } from "../aggregate/profiles.ts";

export interface Signals {
  clientLimited: boolean | null;
  gpuUtilMean: number | null;
  kvCacheUsageMax: number | null;
  preemptions: number | null;
  waitingMean: number | null;
  runningMean: number | null;
  maxNumSeqs: number | null;
  maxNumBatchedTokens: number | null;
  /** Steps in the experiment's step CSVs. */
  steps: number | null;
  /** (schedule + update) / step time, summed over steps. */
  scheduleUpdateShare: number | null;
  /** execute / step time, summed over steps. */
  executeShare: number | null;
  /** Mean tokens scheduled per step (prefill + decode). */
  batchTokensMean: number | null;
  /** Share of the prompt set in prefixes shared between prompts (load/workload/prefix-share.ts). */
  promptPrefixShare: number | null;
  /** Δ prefix-cache hits / Δ queries over the window; null with caching off (no queries). */
  prefixHitRate: number | null;
  /** Whether the server had prefix caching on (cache_config_info, else the argv). */
  prefixCaching: boolean | null;
}

/** Sums of one experiment's step-phase rows. */
export interface StepTotals {
  steps: number;
  scheduleS: number;
  executeS: number;
  updateS: number;
  stepS: number;
  tokens: number;
  tokenSteps: number;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === "boolean" ? v : null);

/**
 * The profile sinks of aggregation, also keeping each experiment's step-phase
 * totals: the classifier needs them when the summary rows are finished, and
 * reading the table back would mean a second pass.
 */
export class StepTotalsSinks extends ProfileSinks {
  private readonly totals = new Map<string, StepTotals>();

  override async push(table: TableDef, key: ProfileKey, source: string, row: Row): Promise<void> {
    if (table === STEP_PHASES_TABLE && key.experimentId !== null) {
      const id = `${key.campaign}/${key.experimentId}`;
      const t = this.totals.get(id) ?? {
        steps: 0,
        scheduleS: 0,
        executeS: 0,
        updateS: 0,
        stepS: 0,
        tokens: 0,
        tokenSteps: 0,
      };
      t.steps++;
      t.scheduleS += num(row.scheduler_s) ?? 0;
      t.executeS += num(row.execute_s) ?? 0;
      t.updateS += num(row.update_s) ?? 0;
      t.stepS += num(row.step_s) ?? 0;
      const p = num(row.prefill_tokens);
      const d = num(row.decode_tokens);
      if (p !== null && d !== null) {
        t.tokens += p + d;
        t.tokenSteps++;
      }
      this.totals.set(id, t);
    }
    await super.push(table, key, source, row);
  }

  totalsOf(campaign: string, experimentId: string): StepTotals | null {
    return this.totals.get(`${campaign}/${experimentId}`) ?? null;
  }
}

/** An experiment's signals from its summary row and its step totals (null: no step CSV). */
export function signalsOf(row: Row, steps: StepTotals | null): Signals {
  const share = (part: number) => (steps && steps.stepS > 0 ? part / steps.stepS : null);
  return {
    clientLimited: bool(row.client_limited),
    gpuUtilMean: num(row.gpu_util_mean),
    kvCacheUsageMax: num(row.server_kv_cache_usage_max),
    preemptions: num(row.server_preemptions),
    waitingMean: num(row.server_waiting_mean),
    runningMean: num(row.server_running_mean),
    maxNumSeqs: num(row.max_num_seqs),
    maxNumBatchedTokens: num(row.max_num_batched_tokens),
    steps: steps?.steps ?? null,
    scheduleUpdateShare: steps ? share(steps.scheduleS + steps.updateS) : null,
    executeShare: steps ? share(steps.executeS) : null,
    batchTokensMean: steps && steps.tokenSteps > 0 ? steps.tokens / steps.tokenSteps : null,
    promptPrefixShare: num(row.prompt_prefix_share),
    prefixHitRate: num(row.server_prefix_hit_rate),
    prefixCaching: bool(row.server_prefix_caching),
  };
}
