/**
 * Aggregation speed and memory: `vscale aggregate` on 1M and 10M synthetic
 * request records (10 experiments), beside its peer, bare DuckDB `read_json`
 * → `COPY … TO parquet` of the same files (what a user would type), and,
 * when VSCALE_BENCH_AGG_BASELINE names a checkout of an earlier vscale, that
 * checkout's aggregation of the same run (issue 16 measured the hand-written
 * decoder this way before removing it).
 *
 * Every measured step is its own child process, so wall time includes start-up
 * (as a user sees it) and peak RSS and CPU time are that step's alone. Goals (issue 16):
 * ≤ 1.2× the bare DuckDB conversion, peak RSS ≤ 1 GB at 10M.
 * VSCALE_BENCH_AGG_ROWS=1000000 limits the sizes (default 1000000,10000000).
 * The machine may be shared, so the steps run interleaved,
 * VSCALE_BENCH_AGG_REPEATS times each (default 3 at up to 1M records, 1 above),
 * and each figure is its best run: other load only ever adds time, so the
 * fastest run is the closest to the step's own cost, and the ratios of
 * those are the figures to read.
 *
 * The Parquet writer comparison that chose parquet-wasm before DuckDB took
 * over is kept as a record in docs/parquet-writers.md; its code is gone with
 * the writers it compared.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { aggregate } from "../analysis/aggregate/index.ts";
import { duckQuery } from "../test/aggregate/duckdb-read.ts";
import { writeGeneratedCampaign } from "../test/aggregate/synthetic-campaign.ts";
import { type BenchRow, printBenchRows } from "./report.ts";

const SELF = fileURLToPath(import.meta.url);

interface ChildResult {
  /** Spawn to exit, measured by the parent. */
  seconds: number;
  /** User + system CPU of the child, every DuckDB thread included. */
  cpuSeconds: number;
  maxRssMb: number;
  error?: string;
}

/** The child's last stdout line: its peak RSS and CPU time. */
function usageLine(): string {
  const u = process.resourceUsage();
  return JSON.stringify({
    maxRssMb: u.maxRSS / 1024,
    cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6,
  });
}

async function childDuckdb(resultsDir: string): Promise<void> {
  const out = join(resultsDir, "duckdb-requests.parquet");
  await duckQuery(
    `COPY (SELECT * FROM read_json('${resultsDir}/raw/*/*/requests.ndjson', format = 'newline_delimited'))
     TO '${out}' (FORMAT parquet, COMPRESSION zstd)`,
  );
}

/** `script` run as a child with `args`; its last stdout line is `usageLine()`'s. */
function runChild(script: string, args: string[]): Promise<ChildResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("close", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const line = out.trim().split("\n").pop() ?? "";
      try {
        const usage = JSON.parse(line) as { maxRssMb: number; cpuSeconds?: number };
        resolve({
          seconds,
          maxRssMb: usage.maxRssMb,
          // A baseline checkout prints only its RSS.
          cpuSeconds: usage.cpuSeconds ?? Number.NaN,
          ...(code === 0 ? {} : { error: `exit ${code}` }),
        });
      } catch {
        resolve({ seconds, cpuSeconds: Number.NaN, maxRssMb: Number.NaN, error: `exit ${code}` });
      }
    });
  });
}

/**
 * An error when `requests.parquet` does not hold `total` records: a checkout
 * older than today's raw layout finds no experiments in it, and its quick
 * empty run would pass for speed (545f210 reads no experiment.json of today).
 */
async function missingRecords(dir: string, total: number): Promise<{ error?: string }> {
  const file = join(dir, "agg", "requests.parquet");
  const rows = await duckQuery(`SELECT count(*) AS n FROM read_parquet('${file}')`).catch(() => []);
  const n = Number(rows[0]?.n ?? 0);
  return n === total ? {} : { error: `requests.parquet holds ${n} of ${total} records` };
}

/** The fastest run and least CPU, with the highest peak RSS of all and the first failure. */
function best(runs: readonly ChildResult[]): ChildResult {
  const error = runs.find((r) => r.error)?.error;
  return {
    seconds: Math.min(...runs.map((r) => r.seconds)),
    cpuSeconds: Math.min(...runs.map((r) => r.cpuSeconds)),
    maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
    ...(error ? { error } : {}),
  };
}

async function main(): Promise<void> {
  const [mode, dir] = process.argv.slice(2);
  if (mode === "--aggregate") {
    await aggregate({ resultsDir: dir! });
    return console.log(usageLine());
  }
  if (mode === "--duckdb") {
    await childDuckdb(dir!);
    return console.log(usageLine());
  }

  const rows: BenchRow[] = [];
  const baseline = process.env.VSCALE_BENCH_AGG_BASELINE;
  const work = await mkdtemp(join(tmpdir(), "vscale-bench-agg-"));
  try {
    const sizes = (process.env.VSCALE_BENCH_AGG_ROWS ?? "1000000,10000000")
      .split(",")
      .filter((s) => s.trim() !== "")
      .map(Number);
    for (const total of sizes) {
      const label = total >= 1e6 ? `${total / 1e6}M` : String(total);
      const dir = join(work, `campaign-${label}`);
      console.error(`bench aggregate: writing ${label} synthetic records …`);
      const experiments = 10;
      const requestsPerExperiment = Math.ceil(total / experiments);
      await writeGeneratedCampaign(dir, { campaign: "bench", experiments, requestsPerExperiment });
      const repeats = Number(process.env.VSCALE_BENCH_AGG_REPEATS ?? (total <= 1e6 ? 3 : 1));
      const runs: Record<"ours" | "duck" | "old", ChildResult[]> = { ours: [], duck: [], old: [] };
      for (let r = 1; r <= repeats; r++) {
        console.error(`bench aggregate: aggregate ${label} (run ${r}/${repeats}) …`);
        await rm(join(dir, "agg"), { recursive: true, force: true });
        runs.ours.push(await runChild(SELF, ["--aggregate", dir]));
        console.error(`bench aggregate: duckdb ${label} (run ${r}/${repeats}) …`);
        runs.duck.push(await runChild(SELF, ["--duckdb", dir]));
        if (baseline) {
          console.error(`bench aggregate: baseline ${label} (run ${r}/${repeats}) …`);
          await rm(join(dir, "agg"), { recursive: true, force: true });
          const old = await runChild(join(baseline, "bench/aggregate.ts"), ["--aggregate", dir]);
          runs.old.push({
            ...old,
            ...(await missingRecords(dir, requestsPerExperiment * experiments)),
          });
        }
      }
      const ours = best(runs.ours);
      const duck = best(runs.duck);
      const failed = ours.error ? `; failed: ${ours.error}` : "";
      const of = `best of ${repeats}`;
      rows.push(
        {
          name: `aggregate: ${label} requests, whole run`,
          figure: ours.seconds,
          unit: "s",
          peer: duck.seconds,
          peerName: "duckdb read_json+COPY",
          note: `${(ours.seconds / duck.seconds).toFixed(2)}× DuckDB's time, ${of} (goal ≤ 1.2×; aggregate also writes the summary, CSV and other tables)${failed}`,
        },
        {
          name: `aggregate: ${label} requests, CPU time`,
          figure: ours.cpuSeconds,
          unit: "s",
          peer: duck.cpuSeconds,
          peerName: "duckdb read_json+COPY",
          note: `user + system, every thread, ${of}: the work done, which other load on a shared machine changes less than wall time`,
        },
        {
          name: `aggregate: ${label} peak RSS`,
          figure: ours.maxRssMb,
          unit: "MB",
          peer: duck.maxRssMb,
          peerName: "duckdb read_json+COPY",
          note: "goal ≤ 1000 MB at 10M; the highest of the runs",
        },
      );
      if (baseline) {
        const old = best(runs.old);
        rows.push({
          name: `aggregate: ${label} requests, baseline checkout`,
          figure: ours.seconds,
          unit: "s",
          peer: old.seconds,
          peerName: "baseline aggregate",
          note: `${(old.seconds / ours.seconds).toFixed(2)}× faster than the baseline, ${of} (goal ≥ 3×); baseline peak RSS ${old.maxRssMb.toFixed(0)} MB${old.error ? `; baseline failed: ${old.error}` : ""}`,
        });
      }
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  printBenchRows(rows);
}

await main();
