/**
 * The recommendation rule against planted truth: two server configurations
 * of one workload, runs with a multiplicative run-to-run noise (CV 5%), the
 * summary rows as aggregation reads them back. Measured over seeded trials:
 * how often a planted tie is called `best` (goal ≤ 5%), how often a planted
 * lead of 10% or 20% is (the power), and how often the wrong one is.
 */
import type { SummaryRow } from "../analysis/fit/summary.ts";
import { recommend } from "../analysis/why/recommend.ts";
import { createRng } from "../stats/rng.ts";
import { type BenchRow, printBenchRows } from "./report.ts";

const CV = 0.05;
const TRIALS = 2000;

function rows(lead: number, runs: number, rng: ReturnType<typeof createRng>): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const gpus of [1, 2]) {
    const x = 1000 * (gpus === 2 ? 1 + lead : 1);
    for (let repeat = 1; repeat <= runs; repeat++)
      out.push({
        campaign: "bench",
        experiment_id: `g${gpus}-u32-r${repeat}`,
        repeat,
        status: "ok",
        gpus,
        tp: gpus,
        dp: 1,
        users: 32,
        output_tokens_per_s: x * (1 + CV * rng.normal()),
        e2e_ms_p99: 2000 * (1 + CV * rng.normal()),
        client_limited: false,
      } as SummaryRow);
  }
  return out;
}

const out: BenchRow[] = [];
for (const runs of [2, 3, 5]) {
  for (const lead of [0, 0.1, 0.2]) {
    const rng = createRng(4242 + runs * 10 + lead * 100);
    let best = 0;
    let wrong = 0;
    for (let t = 0; t < TRIALS; t++) {
      const rec = recommend(rows(lead, runs, rng)).find((r) => r.goal === "throughput");
      if (rec?.verdict !== "best") continue;
      best++;
      if (lead > 0 && !rec.config?.startsWith("gpus=2")) wrong++;
    }
    out.push({
      name: `recommend: "best" rate, planted lead ${100 * lead}%, ${runs} runs a side, CV ${100 * CV}%`,
      figure: best / TRIALS,
      unit: "fraction",
      peer: lead === 0 ? 0.05 : null,
      peerName: lead === 0 ? "goal (at most)" : undefined,
      note:
        lead > 0
          ? `power; wrong configuration called best ${wrong}/${TRIALS}`
          : "false best on a tie",
    });
  }
}
printBenchRows(out);
