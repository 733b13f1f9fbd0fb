/**
 * Whether an experiment's records, each valid on its own (request-table.ts
 * RULES), can be true together and of this experiment. A file appended to
 * itself repeats its request ids; records copied in from another experiment
 * carry its id; a clock an hour off puts every record outside the window.
 * Summed, each gives figures that look right and are not (twice the req/s,
 * or 0 req/s with `status: ok`), so the experiment's request figures are
 * left null and `request_problems` says why.
 */
import type { Window } from "../../stats/request-window.ts";
import { type Session, sqlNumber, sqlString } from "./duck.ts";

/** What the staged records of one file say about themselves, from one scan. */
export interface RecordFacts {
  records: number;
  /** Records whose experiment_id is another's, and one such id. */
  foreign: number;
  foreignId: string | null;
  /** Records beyond the first with the same request_id, and one such id. */
  duplicates: number;
  duplicateId: string | null;
  /** Records that ended or were sent inside the window (every record without a window). */
  touchingWindow: number;
  firstStartUs: number | null;
  lastEndUs: number | null;
}

export async function recordFacts(
  session: Session,
  path: string,
  experimentId: string,
  window: Window | null,
): Promise<RecordFacts> {
  const file = `read_parquet(${sqlString(path)})`;
  const touching =
    window === null
      ? "true"
      : `(end_us >= ${sqlNumber(window.startUs)} AND end_us < ${sqlNumber(window.endUs)}) OR (start_us >= ${sqlNumber(window.startUs)} AND start_us < ${sqlNumber(window.endUs)})`;
  const [row] = await session.rows(`
    WITH dup AS (SELECT request_id, count(*) - 1 AS extra FROM ${file} GROUP BY request_id HAVING count(*) > 1)
    SELECT count(*) AS records,
      count(*) FILTER (WHERE experiment_id <> ${sqlString(experimentId)}) AS foreign_n,
      any_value(experiment_id) FILTER (WHERE experiment_id <> ${sqlString(experimentId)}) AS foreign_id,
      (SELECT coalesce(sum(extra), 0) FROM dup) AS dup_n,
      (SELECT min(request_id) FROM dup) AS dup_id,
      count(*) FILTER (WHERE ${touching}) AS touching,
      min(start_us) AS first_start, max(end_us) AS last_end
    FROM ${file}`);
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    records: n(row?.records) ?? 0,
    foreign: n(row?.foreign_n) ?? 0,
    foreignId: (row?.foreign_id as string | null) ?? null,
    duplicates: n(row?.dup_n) ?? 0,
    duplicateId: (row?.dup_id as string | null) ?? null,
    touchingWindow: n(row?.touching) ?? 0,
    firstStartUs: n(row?.first_start),
    lastEndUs: n(row?.last_end),
  };
}

const iso = (us: number) => new Date(us / 1000).toISOString();

/** Why the records cannot be summed, or null. Pure: facts in, one sentence out. */
export function recordProblem(facts: RecordFacts, window: Window | null): string | null {
  const problems: string[] = [];
  if (facts.foreign > 0)
    problems.push(
      `${facts.foreign} of ${facts.records} records belong to experiment ${facts.foreignId} (copied from another experiment?)`,
    );
  if (facts.duplicates > 0)
    problems.push(
      `${facts.duplicates} records repeat a request id (e.g. ${facts.duplicateId}: a file appended to itself?)`,
    );
  if (
    window !== null &&
    facts.records > 0 &&
    facts.touchingWindow === 0 &&
    facts.firstStartUs !== null &&
    facts.lastEndUs !== null
  )
    problems.push(
      `none of its ${facts.records} records was sent or ended in the window ${iso(window.startUs)}–${iso(window.endUs)}; they span ${iso(facts.firstStartUs)}–${iso(facts.lastEndUs)} (a clock off, or records of another run?)`,
    );
  return problems.length > 0 ? problems.join("; ") : null;
}
