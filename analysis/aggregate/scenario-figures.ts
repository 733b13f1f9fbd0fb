/**
 * The summary's scenario columns (`prefill_ms_per_token`, `prefill_wave_ms_p50`,
 * `decode_step_ms`) of one experiment, computed by stats/scenario-figures.ts
 * (the definition `vscale load` prints too) from the staged request records:
 * prefill-only reads each record's wave, decode-only the window's pooled ITL
 * p50. Null for every other load, without a warning: there they mean nothing.
 */
import { FACTOR_VALUE } from "../../config/factors.ts";
import {
  NO_SCENARIO_FIGURES,
  type ScenarioFigures,
  scenarioFigures,
  WaveStats,
} from "../../stats/scenario-figures.ts";
import { type Session, sqlString } from "./duck.ts";
import type { Window } from "./request-stats.ts";
import type { StagedRequests } from "./request-table.ts";

export async function scenarioColumns(
  session: Session,
  factors: Record<string, unknown>,
  staged: readonly { requests: StagedRequests; window: Window | null }[] | null,
  itlP50Ms: number | null,
): Promise<ScenarioFigures> {
  const scenario = FACTOR_VALUE.scenario.safeParse(factors.scenario);
  const batch = FACTOR_VALUE.batch_size.safeParse(factors.batch_size);
  if (!scenario.success || scenario.data === "mixed") return NO_SCENARIO_FIGURES;
  // prefill-only runs as one share (no segments), so its records are one staged file.
  const part = staged?.[0];
  const waves = new WaveStats(part?.window ?? null);
  if (scenario.data === "prefill-only" && part) {
    const rows = await session.rows(
      `SELECT wave::DOUBLE AS wave, start_us::DOUBLE AS start_us, end_us::DOUBLE AS end_us, ok, warmup,
         prompt_tokens::DOUBLE AS prompt_tokens
       FROM read_parquet(${sqlString(part.requests.path)}) WHERE wave IS NOT NULL`,
    );
    for (const r of rows) {
      waves.add({
        wave: r.wave as number,
        start_us: r.start_us as number,
        end_us: r.end_us as number,
        ok: r.ok === true,
        warmup: r.warmup === true,
        prompt_tokens: (r.prompt_tokens as number | null) ?? null,
      });
    }
  }
  return scenarioFigures({
    scenario: scenario.data,
    batchSize: batch.success ? batch.data : null,
    waves,
    itlP50Ms,
  });
}
