/**
 * What both engines are told about one load run: the Node engine takes these
 * in-process (`LoadRunOptions`), k6 receives them as JSON (`K6Params`). One
 * definition, so the two cannot drift apart.
 */
import type { LoadSchedule } from "./arrivals.ts";
import type { ApiKind } from "./bodies.ts";

export interface WorkloadParams {
  /** Server base URL (with or without `/v1`). */
  url: string;
  model: string;
  api: ApiKind;
  experimentId: string;
  schedule: LoadSchedule;
  warmupMs: number;
  durationMs: number;
  maxTokens: number;
  stream: boolean;
  ignoreEos: boolean;
  temperature: number;
  timeoutMs: number;
  seed: number;
  /** true: at the window's end let in-flight requests finish; false: cancel them. */
  drain: boolean;
}
