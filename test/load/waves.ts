/** The prefill-only wave checks the Node and k6 engine tests share. */
import { expect } from "vitest";
import type { RequestRecord } from "../../formats/request-record.ts";

/**
 * prefill-only records: waves 0, 1, … of exactly `batchSize` requests `u<user>-<wave>`, each
 * wave sent only after the previous one's last reply (the barrier). Returns the wave count.
 */
export function expectWaves(records: readonly RequestRecord[], batchSize: number): number {
  const waves = new Map<number, RequestRecord[]>();
  for (const r of records) {
    expect(r.wave).toEqual(expect.any(Number));
    waves.set(r.wave as number, [...(waves.get(r.wave as number) ?? []), r]);
  }
  const users = Array.from({ length: batchSize }, (_, u) => u);
  for (const [wave, rs] of waves) {
    expect(rs.map((r) => r.request_id).sort()).toEqual(users.map((u) => `u${u}-${wave}`).sort());
    const next = waves.get(wave + 1);
    if (!next) continue;
    const lastEnd = Math.max(...rs.map((r) => r.end_us));
    expect(Math.min(...next.map((r) => r.start_us))).toBeGreaterThanOrEqual(lastEnd);
  }
  return waves.size;
}
