/**
 * One broken profile file must not cost the whole aggregation: a chrome
 * trace cut short, a `.json.gz` that is not gzip, a gzip cut short, or a
 * trace over the size limit is warned about and skipped, and every other
 * profile still lands in its table.
 */
import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readChromeTrace } from "../../analysis/aggregate/chrome-trace.ts";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { DataError } from "../../common/errors.ts";
import { readParquetRows } from "./duckdb-read.ts";
import { AGG_FIXTURES } from "./fixtures.ts";
import { syntheticInfo, writeSyntheticExperiment } from "./synthetic-campaign.ts";

const TRACE = readFileSync(join(AGG_FIXTURES, "profiles/trace_step1.json"));

let dir: string;
let profiles: string;
let result: Awaited<ReturnType<typeof aggregate>>;
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-prof-faults-"));
  const expDir = await writeSyntheticExperiment(dir, {
    info: syntheticInfo({ experimentId: "e1" }),
    requests: [],
  });
  profiles = join(expDir, "profiles");
  await cp(join(AGG_FIXTURES, "profiles"), profiles, { recursive: true });
  const gz = gzipSync(TRACE);
  const broken: Record<string, Buffer> = {
    "trace_cut.json": TRACE.subarray(0, TRACE.length >> 1),
    "w0.1.pt.trace.json.gz": TRACE,
    "w1.1.pt.trace.json.gz": gz.subarray(0, gz.length >> 1),
    // Gzip under a plain name is read for what it is.
    "w2.1.pt.trace.json": gz,
  };
  for (const [name, bytes] of Object.entries(broken)) await writeFile(join(profiles, name), bytes);
  result = await aggregate({ resultsDir: dir, log: (l) => logs.push(l) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("aggregate: broken profile files", () => {
  it("warns about each broken file in one line and skips it", () => {
    const skipped = (name: string, reason: string) =>
      `${join(profiles, name)}: ${reason}; file skipped`;
    expect(logs).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${join(profiles, "trace_cut\\.json")}: not a chrome trace: .*; file skipped$`),
      ),
    );
    expect(logs).toContain(
      skipped("w0.1.pt.trace.json.gz", "named .gz but is not gzip (no 1f 8b header)"),
    );
    expect(logs).toContain(
      skipped(
        "w1.1.pt.trace.json.gz",
        "cannot decompress: gzip cut short (unexpected end of file)",
      ),
    );
  });

  it("still writes every other profile table, with the sound traces' rows", async () => {
    expect(result.files.map((f) => f.slice(result.outDir.length + 1))).toEqual(
      expect.arrayContaining([
        "step_phases.parquet",
        "kernels.parquet",
        "ops.parquet",
        "profilemate_request_lifecycle.parquet",
      ]),
    );
    const kernels = await readParquetRows(join(dir, "agg/kernels.parquet"));
    const sources = [...new Set(kernels.map((r) => String(r.source).slice(profiles.length + 1)))];
    expect(sources.sort()).toEqual(["trace_step1.json", "w2.1.pt.trace.json"]);
    expect(kernels.filter((r) => r.name === "sm90_xmma_gemm_bf16").map((r) => r.total_us)).toEqual([
      150, 150,
    ]);
  });
});

describe("readChromeTrace: the size limit", () => {
  it("names MAX_TRACE_BYTES for a file, or a gzip's content, over it", async () => {
    const plain = join(dir, "trace_big.json");
    const packed = join(dir, "trace_big.json.gz");
    await writeFile(plain, TRACE);
    await writeFile(packed, gzipSync(TRACE));
    const limit = 1024;
    await expect(readChromeTrace(plain, () => {}, limit)).rejects.toThrow(
      /^is 1\.2 KiB, over the 1\.0 KiB limit \(MAX_TRACE_BYTES\)$/,
    );
    const error = await readChromeTrace(packed, () => {}, limit).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).format()).toBe(
      `${packed}: trace is over the 1.0 KiB limit (MAX_TRACE_BYTES) (profile fewer steps per trace file)`,
    );
    // Within the limit both read the same.
    const a = await readChromeTrace(plain, () => {});
    const b = await readChromeTrace(packed, () => {});
    expect(b).toEqual(a);
  });
});
