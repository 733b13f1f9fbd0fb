/**
 * Client-limited points in the fit: marked in the group's notes by default,
 * left out with `--exclude-client-limited` (through the real CLI), and the
 * option is recorded in the fit tables so a stale fit is never reused.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFitTables, runFits } from "../../analysis/fit/index.ts";
import { amdahlRows, writeSyntheticSummary } from "../analysis/helpers/synthetic-summary.ts";
import { runCli } from "../helpers/vscale-cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-fit-client-"));
  const rows = amdahlRows({ s: 0.1, seed: 4 });
  // The 8-GPU points hit the client's ceiling: throughput flat at the 4-GPU level.
  for (const r of rows) {
    if (r.gpus === 8) {
      r.client_limited = true;
      r.output_tokens_per_s = (1000 * 4) / (1 + 0.1 * 3);
    } else r.client_limited = false;
  }
  await writeSyntheticSummary(dir, rows);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("fit and client-limited points", () => {
  it("marks them by default and leaves them out on request, which moves s back to the truth", async () => {
    const marked = await runFits({ resultsDir: dir, bootstrap: 0 });
    const g = marked.groups[0]!;
    expect(g.points).toHaveLength(12);
    expect(g.notes.join(" ")).toMatch(/client-limited points .*tp8-u32-r1/);
    const excluded = await runFits({ resultsDir: dir, bootstrap: 0, excludeClientLimited: true });
    const h = excluded.groups[0]!;
    expect(h.points).toHaveLength(9);
    expect(h.experiments.some((e) => e.startsWith("tp8"))).toBe(false);
    expect(h.notes.join(" ")).toMatch(/left out 3 client-limited/);
    expect(Math.abs(h.amdahl.s - 0.1)).toBeLessThan(Math.abs(g.amdahl.s - 0.1));
    expect((await readFitTables(dir))?.excludeClientLimited).toBe(true);
  });

  it("vscale fit --exclude-client-limited", async () => {
    const run = await runCli([
      "fit",
      "--results",
      dir,
      "--bootstrap",
      "0",
      "--exclude-client-limited",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/left out 3 client-limited/);
  });
});
