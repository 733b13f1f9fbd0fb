/**
 * The bottleneck class of one experiment from its measured signals
 * (signals.ts), following seed 002_eceddc5d9b8009c0's list of what limits a
 * vLLM server. Rules are tried in THRESHOLDS' order, the first that holds
 * decides; its figures and thresholds are the evidence. Client first: a
 * client-limited run says nothing about the server. Memory before
 * scheduling: a full KV cache also leaves requests waiting, and freeing blocks,
 * not scheduler settings, is then the cure. Cache after memory (preemptions
 * free and evict cached prefixes, so a full cache explains the misses) and
 * before scheduling and compute: recomputing a shared prefix fills the token
 * budget and the execute phase, so those signals are its symptoms.
 */
import type { Signals } from "./signals.ts";

export const BOTTLENECK_CLASSES = [
  "client",
  "memory",
  "cache",
  "scheduling",
  "compute",
  "none",
] as const;
export type Bottleneck = (typeof BOTTLENECK_CLASSES)[number];

/** Every threshold the rules use, documented in docs/why.md. */
export const THRESHOLDS = {
  /** KV-cache usage (0–1) counted as full: vLLM preempts once a step cannot get a block. */
  kvFull: 0.95,
  /**
   * Share of the prompt set in shared prefixes that makes a prefix-sharing workload: below
   * it a perfect cache would save under a third of the prompt work.
   */
  prefixShare: 0.3,
  /** A prefix cache misses when its hit rate is below this fraction of the prompt prefix share. */
  hitShortfall: 0.5,
  /** Mean waiting requests that count as a queue (one or more always waiting). */
  waiting: 1,
  /** Share of a step spent in schedule + update (seed 000 measured 4.5% on an H200). */
  scheduleShare: 0.15,
  /** A limit counts as reached at this fraction of it (running/max_num_seqs, tokens/budget). */
  limitReached: 0.9,
  /** GPU utilisation (%) counted as compute-bound. */
  gpuBusyPct: 90,
  /** Without GPU samples (the simulator): execute share of the step for a compute-bound step… */
  executeShare: 0.8,
  /** …with at least this many sequences batched on average. */
  runningBatched: 4,
} as const;

export interface Classification {
  bottleneck: Bottleneck | null;
  /** `key=value (rule)` figures joined by `; `; why null when the signals are missing. */
  evidence: string;
}

const f = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(3));

/**
 * The class; a client-limited run keeps what the server-side rules would
 * have said in its evidence (`server: <class> (<figures>)`), as a hint only.
 */
export function classify(x: Signals): Classification {
  const server = classifyServer(x);
  if (x.clientLimited !== true) return server;
  return {
    bottleneck: "client",
    evidence: `client_limited=true; server: ${server.bottleneck ?? "unknown"} (${server.evidence})`,
  };
}

/** The server-side rules (2–6 of docs/why.md), the client guard left aside. */
function classifyServer(x: Signals): Classification {
  const T = THRESHOLDS;
  const hit = (bottleneck: Bottleneck, ...parts: string[]) => ({
    bottleneck,
    evidence: parts.join("; "),
  });
  if (x.preemptions !== null && x.preemptions > 0)
    return hit("memory", `server_preemptions=${x.preemptions} (>0)`);
  if (
    x.kvCacheUsageMax !== null &&
    x.kvCacheUsageMax >= T.kvFull &&
    (x.waitingMean ?? 0) >= T.waiting
  )
    return hit(
      "memory",
      `kv_cache_usage_max=${f(x.kvCacheUsageMax)} (>=${T.kvFull})`,
      `waiting_mean=${f(x.waitingMean ?? 0)} (>=${T.waiting})`,
    );
  const cache = missedPrefixes(x);
  if (cache !== null) return hit("cache", ...cache);
  if (x.scheduleUpdateShare !== null && x.scheduleUpdateShare >= T.scheduleShare)
    return hit(
      "scheduling",
      `schedule_update_share=${f(x.scheduleUpdateShare)} (>=${T.scheduleShare})`,
    );
  if (x.waitingMean !== null && x.waitingMean >= T.waiting) {
    // Requests wait while the KV cache has room: a scheduler limit holds them back.
    const queue = `waiting_mean=${f(x.waitingMean)} (>=${T.waiting})`;
    if (
      x.runningMean !== null &&
      x.maxNumSeqs !== null &&
      x.runningMean >= T.limitReached * x.maxNumSeqs
    )
      return hit(
        "scheduling",
        queue,
        `running_mean/max_num_seqs=${f(x.runningMean / x.maxNumSeqs)} (>=${T.limitReached})`,
      );
    if (
      x.batchTokensMean !== null &&
      x.maxNumBatchedTokens !== null &&
      x.batchTokensMean >= T.limitReached * x.maxNumBatchedTokens
    )
      return hit(
        "scheduling",
        queue,
        `batch_tokens/max_num_batched_tokens=${f(x.batchTokensMean / x.maxNumBatchedTokens)} (>=${T.limitReached})`,
      );
  }
  if (x.gpuUtilMean !== null && x.gpuUtilMean >= T.gpuBusyPct)
    return hit("compute", `gpu_util_mean=${f(x.gpuUtilMean)} (>=${T.gpuBusyPct})`);
  if (
    x.gpuUtilMean === null &&
    x.executeShare !== null &&
    x.runningMean !== null &&
    x.executeShare >= T.executeShare &&
    x.runningMean >= T.runningBatched
  )
    return hit(
      "compute",
      `execute_share=${f(x.executeShare)} (>=${T.executeShare})`,
      `running_mean=${f(x.runningMean)} (>=${T.runningBatched})`,
    );
  const measured = [
    x.clientLimited,
    x.gpuUtilMean,
    x.kvCacheUsageMax,
    x.waitingMean,
    x.executeShare,
  ];
  if (measured.every((v) => v === null))
    return { bottleneck: null, evidence: "no client, GPU, KV-cache, queue or step figures" };
  return { bottleneck: "none", evidence: "no rule's threshold reached" };
}

/**
 * A prefix-sharing workload whose shared prefixes the server recomputed:
 * caching off (vLLM then counts no queries, so the setting is the evidence),
 * or a hit rate far below the share (blocks evicted before reuse).
 * The evidence parts, or null.
 */
function missedPrefixes(x: Signals): string[] | null {
  const T = THRESHOLDS;
  const share = x.promptPrefixShare;
  if (share === null || share < T.prefixShare) return null;
  const shared = `prompt_prefix_share=${f(share)} (>=${T.prefixShare})`;
  if (x.prefixCaching === false) return [shared, "prefix_caching=false"];
  if (x.prefixHitRate === null || x.prefixHitRate >= T.hitShortfall * share) return null;
  return [
    shared,
    `prefix_hit_rate=${f(x.prefixHitRate)}`,
    `prefix_hit_rate/prompt_prefix_share=${f(x.prefixHitRate / share)} (<${T.hitShortfall})`,
  ];
}
