/**
 * Seed 000's step-phase CSV (`execution_stats_*.csv`): one row per engine
 * `step()` with scheduler/execute/update seconds and `num_scheduled_tokens`,
 * a Python dict literal `{'req-1': 1, 'req-7': 128}` (1 = decode, >1 = prefill).
 */

import type { Row, Session } from "./duck.ts";
import type { Warn } from "./ndjson-lines.ts";
import { readCsv, reportFieldCount } from "./read-csv.ts";

const PHASES = ["scheduler_time", "execute_time", "update_time"] as const;

export const STEP_CSV_PATTERN = /^execution_stats_.*\.csv$/;

export interface ScheduledTokens {
  prefillRequests: number;
  decodeRequests: number;
  prefillTokens: number;
  decodeTokens: number;
}

/** Reads `{'a': 1, "b": 128}` (Python repr of dict[str, int]); null when malformed. */
export function parseScheduledTokens(text: string): ScheduledTokens | null {
  const s = text.trim();
  if (!s.startsWith("{") || !s.endsWith("}")) return null;
  const out = { prefillRequests: 0, decodeRequests: 0, prefillTokens: 0, decodeTokens: 0 };
  let i = 1;
  const skipSpace = () => {
    while (s[i] === " ") i++;
  };
  skipSpace();
  if (s[i] === "}") return out;
  while (i < s.length) {
    skipSpace();
    const quote = s[i];
    if (quote !== "'" && quote !== '"') return null;
    const close = s.indexOf(quote, i + 1);
    if (close === -1) return null;
    i = close + 1;
    skipSpace();
    if (s[i] !== ":") return null;
    i++;
    skipSpace();
    let end = i;
    while (end < s.length && s[end]! >= "0" && s[end]! <= "9") end++;
    if (end === i) return null;
    const n = Number(s.slice(i, end));
    if (n === 1) {
      out.decodeRequests++;
      out.decodeTokens++;
    } else {
      out.prefillRequests++;
      out.prefillTokens += n;
    }
    i = end;
    skipSpace();
    if (s[i] === ",") i++;
    else if (s[i] === "}") return out;
    else return null;
  }
  return null;
}

export async function readStepPhases(session: Session, file: string, warn: Warn): Promise<Row[]> {
  const { names, records } = await readCsv(session, file, warn);
  const phaseAt = PHASES.map((name) => names.indexOf(name));
  const tokensAt = names.indexOf("num_scheduled_tokens");
  if (phaseAt.includes(-1)) {
    warn(`${file}:1: expected scheduler_time, execute_time and update_time columns; file skipped`);
    return [];
  }
  const rows: Row[] = [];
  for (const record of records) {
    const { line, fields } = record;
    const cells = phaseAt.map((j) => fields[j]?.trim());
    if (cells.includes(undefined)) {
      // A last row cut short by a killed profiler.
      reportFieldCount(file, record, names, warn);
      continue;
    }
    // An empty cell is a phase not recorded, not a 0-second one (`Number("")` is 0).
    const blank = cells.indexOf("");
    if (blank !== -1) {
      warn(`${file}:${line}: ${PHASES[blank]}: empty; row skipped`);
      continue;
    }
    const [scheduler, execute, update] = cells.map(Number) as [number, number, number];
    if (![scheduler, execute, update].every((v) => Number.isFinite(v) && v >= 0)) {
      warn(`${file}:${line}: phase times must be numbers ≥ 0; row skipped`);
      continue;
    }
    let tokens: ScheduledTokens | null = null;
    if (tokensAt !== -1) {
      tokens = parseScheduledTokens(fields[tokensAt] ?? "");
      if (!tokens)
        warn(`${file}:${line}: num_scheduled_tokens: expected {'<request>': <tokens>, …}`);
    }
    const step = scheduler + execute + update;
    const share = (v: number) => (step > 0 ? v / step : null);
    rows.push({
      step: rows.length,
      scheduler_s: scheduler,
      execute_s: execute,
      update_s: update,
      step_s: step,
      scheduler_share: share(scheduler),
      execute_share: share(execute),
      update_share: share(update),
      prefill_requests: tokens?.prefillRequests ?? null,
      decode_requests: tokens?.decodeRequests ?? null,
      prefill_tokens: tokens?.prefillTokens ?? null,
      decode_tokens: tokens?.decodeTokens ?? null,
    });
  }
  return rows;
}
