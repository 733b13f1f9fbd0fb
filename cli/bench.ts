import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { formatTextTable } from "../common/text-table.ts";
import { type BenchRow, parseBenchOutput, ratio } from "../formats/bench-rows.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Run one bench file in its own process (so one bench's heap never skews another's RSS). */
function runBenchFile(file: string): Promise<{ rows: BenchRow[]; code: number | null }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("close", (code) => done({ rows: parseBenchOutput(out), code }));
  });
}

function fmt(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "-";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 10) return value.toFixed(1);
  return value.toPrecision(3);
}

export function formatBenchTable(rows: BenchRow[]): string {
  const header = ["benchmark", "figure", "unit", "peer", "peer figure", "ratio"];
  const body = rows.map((r) => [
    r.name,
    fmt(r.figure),
    r.unit,
    r.peerName ?? "",
    fmt(r.peer),
    fmt(ratio(r)),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)),
  );
  return formatTextTable([header, widths.map((w) => "-".repeat(w)), ...body]);
}

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("run every bench/*.ts and print one table (benchmarks never fail the build)")
    .argument("[names...]", "only these benches, e.g. sim load")
    .action(async (names: string[]) => {
      const files = (await readdir(join(ROOT, "bench")))
        .filter((f) => f.endsWith(".ts") && f !== "report.ts")
        .filter((f) => names.length === 0 || names.includes(f.replace(/\.ts$/, "")))
        .sort();
      const rows: BenchRow[] = [];
      for (const file of files) {
        console.error(`bench: running ${file} …`);
        const result = await runBenchFile(join("bench", file));
        if (result.code !== 0)
          console.error(`bench: ${file} exited with ${result.code}; rows so far kept`);
        rows.push(...result.rows);
      }
      console.log(formatBenchTable(rows));
    });
}
