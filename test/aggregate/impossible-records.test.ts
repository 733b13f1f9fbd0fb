/**
 * Records that cannot be true are refused or flagged, never summed: a file
 * appended to itself, another experiment's records, a copied folder, a clock
 * off the window, a record ending before it starts, ok with an error kind,
 * more tokens than max_tokens, and `status: ok` with nothing ok in the window.
 * Raw folders as the runner writes them, through `vscale aggregate`'s own
 * code, read back with DuckDB.
 */
import { appendFile, cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { experimentDir, RAW_FILES } from "../../formats/raw-layout.ts";
import type { RequestRecord } from "../../formats/request-record.ts";
import { readParquetRows } from "./duckdb-read.ts";
import {
  syntheticInfo,
  syntheticRequest,
  T0_US,
  writeSyntheticExperiment,
} from "./synthetic-campaign.ts";

let dir: string;
let warnings: string[];
let summary: Record<string, unknown>[];
let requests: Record<string, unknown>[];
let skipped: { id: string; reason: string }[];

/** 40 ok requests, one a quarter second, all inside the window. */
function goodRequests(experimentId: string): RequestRecord[] {
  return Array.from({ length: 40 }, (_, i) =>
    syntheticRequest({
      experiment_id: experimentId,
      request_id: `u0-${i}`,
      start_us: T0_US + i * 250_000,
      end_us: T0_US + i * 250_000 + 200_000,
      e2e_ms: 200,
      max_tokens: 128,
    }),
  );
}

async function experiment(id: string, requests: RequestRecord[], requestsText?: string) {
  return writeSyntheticExperiment(dir, {
    info: syntheticInfo({ experimentId: id }),
    requests,
    ...(requestsText === undefined ? {} : { requestsText }),
  });
}

const rowOf = (id: string) =>
  summary.find((r) => r.experiment_id === id) as Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-impossible-"));
  await experiment("clean", goodRequests("clean"));
  // A requests.ndjson appended to itself.
  await experiment("doubled", goodRequests("doubled"));
  const doubled = join(experimentDir(dir, "c1", "doubled"), RAW_FILES.requests);
  await appendFile(doubled, await readFile(doubled, "utf8"));
  // Another experiment's records copied in.
  await experiment("foreign", [...goodRequests("foreign"), ...goodRequests("clean").slice(0, 5)]);
  // A copy of a whole experiment folder.
  await cp(experimentDir(dir, "c1", "clean"), join(dir, "raw", "c1", "clean-copy"), {
    recursive: true,
  });
  // Every record an hour off the window.
  await experiment(
    "clock",
    goodRequests("clock").map((r) => ({
      ...r,
      start_us: r.start_us + 3_600_000_000,
      end_us: r.end_us + 3_600_000_000,
    })),
  );
  // Every record failed while status.json says ok.
  await experiment(
    "all-failed",
    goodRequests("all-failed").map((r) => ({
      ...r,
      ok: false,
      error_kind: "http_5xx" as const,
      http_status: 500,
    })),
  );
  // Three lines each breaking one record rule, beside good ones.
  const bad = [
    syntheticRequest({ experiment_id: "bad-lines", request_id: "b1", end_us: T0_US - 5 }),
    syntheticRequest({ experiment_id: "bad-lines", request_id: "b2", error_kind: "timeout" }),
    syntheticRequest({
      experiment_id: "bad-lines",
      request_id: "b3",
      output_tokens: 100_000,
      max_tokens: 128,
    }),
  ];
  const lines = [...goodRequests("bad-lines"), ...bad].map((r) => JSON.stringify(r)).join("\n");
  await experiment("bad-lines", [], `${lines}\n`);

  warnings = [];
  const result = await aggregate({ resultsDir: dir, log: (line) => warnings.push(line) });
  skipped = result.skipped;
  summary = await readParquetRows(join(dir, "agg", "summary.parquet"));
  requests = await readParquetRows(join(dir, "agg", "requests.parquet"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("records that cannot be true", () => {
  it("a clean experiment is summed as before", () => {
    const clean = rowOf("clean");
    expect(clean.request_problems).toBeNull();
    expect(Number(clean.requests_ok)).toBe(40);
    expect(clean.requests_per_s).toBeCloseTo(4, 6);
  });

  it("a file appended to itself: figures null, records in no table, and why", () => {
    const row = rowOf("doubled");
    expect(row.requests_per_s).toBeNull();
    expect(row.requests_ok).toBeNull();
    expect(row.request_problems).toMatch(/40 records repeat a request id \(e\.g\. u0-0/);
    expect(requests.filter((r) => r.experiment_id === "doubled")).toHaveLength(0);
    expect(warnings.some((w) => w.includes("repeat a request id"))).toBe(true);
  });

  it("another experiment's records: figures null, named", () => {
    const row = rowOf("foreign");
    expect(row.output_tokens_per_s).toBeNull();
    expect(row.request_problems).toMatch(/5 of 45 records belong to experiment clean/);
  });

  it("a copied experiment folder is no second row", () => {
    expect(summary.filter((r) => r.experiment_id === "clean")).toHaveLength(1);
    expect(skipped.find((s) => s.id === "c1/clean-copy")?.reason).toMatch(
      /says c1\/clean: a copied or renamed folder/,
    );
  });

  it("records an hour off the window: null, not 0 req/s", () => {
    const row = rowOf("clock");
    expect(row.requests_per_s).toBeNull();
    expect(row.request_problems).toMatch(/none of its 40 records was sent or ended in the window/);
  });

  it("every record failed while status.json says ok: null, not 0 tok/s", () => {
    const row = rowOf("all-failed");
    expect(row.status).toBe("ok");
    expect(row.output_tokens_per_s).toBeNull();
    expect(row.request_problems).toMatch(/no request ended ok inside the window \(40 failed/);
  });

  it("a record ending before it starts, ok with an error kind, or over max_tokens is refused", () => {
    const row = rowOf("bad-lines");
    expect(row.request_problems).toBeNull();
    expect(Number(row.requests_ok)).toBe(40);
    expect(requests.filter((r) => r.experiment_id === "bad-lines")).toHaveLength(40);
    const file = join(experimentDir(dir, "c1", "bad-lines"), RAW_FILES.requests);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${file}:41: .*ends before it starts`)),
        expect.stringMatching(new RegExp(`^${file}:42: .*is ok and has an error_kind`)),
        expect.stringMatching(
          new RegExp(`^${file}:43: .*is ok with more output tokens than .*max_tokens`),
        ),
      ]),
    );
  });
});
