import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { DataError } from "../../common/errors.ts";
import { RAW_FILES } from "../../formats/raw-layout.ts";
import { duckQuery, readParquetRows } from "./duckdb-read.ts";
import {
  generatedRequests,
  syntheticInfo,
  syntheticRequest,
  writeSyntheticExperiment,
} from "./synthetic-campaign.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-robust-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (o: object) => `${JSON.stringify(o)}\n`;

describe("aggregate: broken and incomplete input", () => {
  it("skips a truncated last line and malformed lines, naming file and line", async () => {
    const good = (i: number) =>
      syntheticRequest({ request_id: `r${i}`, end_us: syntheticInfo().times.window_start_us! + i });
    const { ok: _drop, ...missingOk } = good(3);
    const text =
      line(good(1)) +
      "{not json\n" +
      line(missingOk) +
      line({ ...good(4), ttft_ms: -5 }) +
      line(good(5)) +
      JSON.stringify(good(6)).slice(0, 40);
    const expDir = await writeSyntheticExperiment(dir, { requestsText: text });
    const logs: string[] = [];
    await aggregate({ resultsDir: dir, log: (l) => logs.push(l) });
    const file = join(expDir, RAW_FILES.requests);
    expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^${file}:2: not JSON`)));
    expect(logs).toContainEqual(
      `${file}:3: ok: Invalid input: expected boolean, received undefined; line skipped`,
    );
    expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^${file}:4: ttft_ms: `)));
    expect(logs).toContainEqual(`${file}:6: truncated last line skipped (a crashed run?)`);
    const rows = await readParquetRows(join(dir, "agg/requests.parquet"));
    expect(rows.map((r) => r.request_id)).toEqual(["r1", "r5"]);
    const [summary] = await readParquetRows(join(dir, "agg/summary.parquet"));
    expect(summary!.requests_ok).toBe(2n);
  });

  it("leaves out an experiment without status.json, or keeps it as interrupted when asked", async () => {
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({ experimentId: "done" }),
      requests: [syntheticRequest({ experiment_id: "done" })],
    });
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({ experimentId: "crashed", windowEndUs: null }),
      status: null,
      requests: [
        syntheticRequest({
          experiment_id: "crashed",
          request_id: "c1",
          start_us: 1_000_000,
          end_us: 3_000_000,
        }),
        syntheticRequest({
          experiment_id: "crashed",
          request_id: "c2",
          start_us: 2_000_000,
          end_us: 5_000_000,
        }),
      ],
    });
    const first = await aggregate({ resultsDir: dir });
    expect(first.experiments).toBe(1);
    expect(first.skipped).toEqual([
      {
        id: "c1/crashed",
        reason: "no status.json (incomplete run; --include-incomplete keeps it)",
      },
    ]);
    const second = await aggregate({ resultsDir: dir, includeIncomplete: true });
    expect(second.experiments).toBe(2);
    const rows = await readParquetRows(join(dir, "agg/summary.parquet"));
    expect(rows[0]).toMatchObject({
      experiment_id: "crashed",
      status: "interrupted",
      status_reason: "no status.json: the run did not finish",
      requests_ok: 2n,
      // No recorded window: it spans the first send to the last completion.
      window_s: 4,
    });
  });

  it("reports a malformed experiment.json as skipped with file and field", async () => {
    const expDir = await writeSyntheticExperiment(dir, { requests: [] });
    const info = JSON.parse(await readFile(join(expDir, RAW_FILES.experiment), "utf8"));
    info.repeat = "one";
    await writeFile(join(expDir, RAW_FILES.experiment), JSON.stringify(info));
    const result = await aggregate({ resultsDir: dir });
    expect(result.experiments).toBe(0);
    expect(result.skipped[0]!.reason).toMatch(/experiment\.json: repeat: .*number/);
  });

  it("names a campaign that does not exist, and a results folder without raw/", async () => {
    await writeSyntheticExperiment(dir, { requests: [] });
    await expect(aggregate({ resultsDir: dir, campaign: "nope" })).rejects.toThrow(DataError);
    await expect(aggregate({ resultsDir: dir, campaign: "nope" })).rejects.toThrow(
      /no campaign "nope"/,
    );
    await expect(aggregate({ resultsDir: join(dir, "empty") })).rejects.toThrow(/no raw results/);
  });
});

describe("aggregate: atomic and deterministic outputs", () => {
  it("keeps the previous outputs intact and leaves no temp files when a run fails", async () => {
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({ experimentId: "a" }),
      requests: generatedRequests("a", 2000, 7),
    });
    await aggregate({ resultsDir: dir });
    const before = await readFile(join(dir, "agg/summary.parquet"));
    const requestsBefore = await readFile(join(dir, "agg/requests.parquet"));
    // A later experiment, then a --profiles path that is not there, stops the run.
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({ experimentId: "b" }),
      requests: generatedRequests("b", 2000, 8),
    });
    await expect(
      aggregate({ resultsDir: dir, profiles: [join(dir, "no-such-profiles")] }),
    ).rejects.toThrow(DataError);
    expect(Buffer.compare(await readFile(join(dir, "agg/summary.parquet")), before)).toBe(0);
    expect(Buffer.compare(await readFile(join(dir, "agg/requests.parquet")), requestsBefore)).toBe(
      0,
    );
    expect((await readdir(join(dir, "agg"))).sort()).toEqual([
      "gpu.parquet",
      "requests.parquet",
      "server_metrics.parquet",
      "summary.csv",
      "summary.parquet",
    ]);
  });

  it("gives byte-identical files for the same raw input", async () => {
    // x spans two Arrow batches (and row groups).
    for (const [id, n] of [
      ["x", 70_000],
      ["y", 1_000],
    ] as const) {
      await writeSyntheticExperiment(dir, {
        info: syntheticInfo({ experimentId: id }),
        requests: generatedRequests(id, n, id.charCodeAt(0)),
      });
    }
    const files = ["summary.parquet", "requests.parquet", "summary.csv"];
    const digests = async () =>
      Promise.all(
        files.map(async (f) =>
          createHash("sha256")
            .update(await readFile(join(dir, "agg", f)))
            .digest("hex"),
        ),
      );
    await aggregate({ resultsDir: dir });
    const first = await digests();
    await rm(join(dir, "agg"), { recursive: true });
    await aggregate({ resultsDir: dir });
    expect(await digests()).toEqual(first);
    const order = await duckQuery(
      `SELECT experiment_id, request_id FROM read_parquet('${join(dir, "agg/requests.parquet")}') WHERE request_id IN ('x-0', 'x-69999', 'y-0', 'y-999')`,
    );
    expect(order.map((r) => r.request_id)).toEqual(["x-0", "x-69999", "y-0", "y-999"]);
  });

  it("gives the same files whether lines take the fast decoder or the JSON.parse + zod path", async () => {
    const records = [...generatedRequests("x", 3_000, 7)];
    const plain = join(dir, "plain");
    const escaped = join(dir, "escaped");
    await writeSyntheticExperiment(plain, {
      info: syntheticInfo({ experimentId: "x" }),
      requests: records,
    });
    // The same JSON values, but every line carries an escape the fast decoder declines.
    await writeSyntheticExperiment(escaped, {
      info: syntheticInfo({ experimentId: "x" }),
      requestsText: records
        .map((r) => JSON.stringify(r).replace('"engine":"node"', '"engine":"nod\\u0065"'))
        .map((l) => `${l}\n`)
        .join(""),
    });
    expect(await readFile(join(escaped, "raw/c1/x/requests.ndjson"), "utf8")).toContain("\\u0065");
    await aggregate({ resultsDir: plain });
    await aggregate({ resultsDir: escaped });
    for (const f of ["requests.parquet", "summary.parquet", "summary.csv"]) {
      const a = await readFile(join(plain, "agg", f));
      const b = await readFile(join(escaped, "agg", f));
      expect(a.equals(b), f).toBe(true);
    }
  });
});
