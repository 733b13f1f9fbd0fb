/**
 * Server-side columns come only from a sound pair of `/metrics` scrapes of
 * one server process. The scrapes are real: taken from a running simulator
 * (prom-client text in vLLM's names), before and after two requests, and
 * from a second, restarted one. Each broken pair must give null columns and
 * a `file: reason` warning, never the server's lifetime totals.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../analysis/aggregate/index.ts";
import { experimentDir, RAW_FILES } from "../../formats/raw-layout.ts";
import { startSimServer } from "../../sim/server.ts";
import { type DuckValue, readParquetRows } from "./duckdb-read.ts";
import { syntheticInfo, syntheticRequest, writeSyntheticExperiment } from "./synthetic-campaign.ts";

const MODEL = "sim-model";

async function complete(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const response = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: MODEL,
        prompt: "hello there",
        max_tokens: 4,
        ignore_eos: true,
      }),
    });
    expect(response.status).toBe(200);
    await response.text();
  }
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** What prometheus_client's process collector adds to vLLM's default registry on Linux. */
const processStart = (seconds: number) =>
  `# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds ${seconds}\n`;

const NGINX_502 =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";

let dir: string;
let before: string;
let after: string;
let restarted: string;
const logs: string[] = [];
const rows = new Map<string, Record<string, DuckValue>>();
let deltaColumns: string[];

const expPath = (id: string, file: string) => join(experimentDir(dir, "c1", id), file);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-agg-scrapes-"));
  const sim = await startSimServer({ model: MODEL, simTimeScale: 20 });
  try {
    await complete(sim.url, 3);
    before = await scrape(sim.url);
    await complete(sim.url, 2);
    after = await scrape(sim.url);
  } finally {
    await sim.close();
  }
  const second = await startSimServer({ model: MODEL, simTimeScale: 20 });
  try {
    await complete(second.url, 1);
    restarted = await scrape(second.url);
  } finally {
    await second.close();
  }
  // Cut at a line boundary, just after the first request_success series.
  const first = before.indexOf("\nvllm:request_success_total{") + 1;
  const cutAtLine = before.slice(0, before.indexOf("\n", first) + 1);
  const cases: Record<string, { before?: string; after?: string }> = {
    sound: { before, after },
    "sound-with-start": {
      before: before + processStart(1.75e9),
      after: after + processStart(1.75e9),
    },
    "no-before": { after },
    "no-after": { before },
    "html-before": { before: NGINX_502, after },
    "cut-before": { before: before.slice(0, Math.floor(before.length / 2)), after },
    "cut-at-line": { before: cutAtLine, after },
    swapped: { before: after, after: before },
    "swapped-same-start": {
      before: after + processStart(1.75e9),
      after: before + processStart(1.75e9),
    },
    restarted: { before, after: restarted },
    "restarted-grew": {
      before: before + processStart(1.75e9),
      after: after + processStart(1.75e9 + 60),
    },
    "dir-before": { after },
  };
  for (const [id, scrapes] of Object.entries(cases)) {
    await writeSyntheticExperiment(dir, {
      info: syntheticInfo({ experimentId: id, model: MODEL }),
      requests: [syntheticRequest({ experiment_id: id })],
      metricsBefore: scrapes.before,
      metricsAfter: scrapes.after,
    });
  }
  await mkdir(expPath("dir-before", RAW_FILES.metricsBefore));
  await aggregate({ resultsDir: dir, log: (l) => logs.push(l) });
  for (const row of await readParquetRows(join(dir, "agg/summary.parquet"))) {
    rows.set(String(row.experiment_id), row);
  }
  // Gauges, and the prefix-caching setting: a fact of the server, not a window delta.
  const notDeltas = [
    "server_running_mean",
    "server_waiting_mean",
    "server_kv_cache_usage_max",
    "server_prefix_caching",
  ];
  deltaColumns = Object.keys(rows.get("sound")!).filter(
    (c) => c.startsWith("server_") && !notDeltas.includes(c),
  );
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const allNull = (id: string) => Object.fromEntries(deltaColumns.map((c) => [c, rows.get(id)![c]]));
const nulls = () => Object.fromEntries(deltaColumns.map((c) => [c, null]));

describe("server columns from the /metrics scrapes", () => {
  it("are the window's deltas for a sound pair, with or without process_start_time_seconds", () => {
    expect(before.endsWith("\n")).toBe(true);
    expect(deltaColumns).toHaveLength(19);
    const sound = rows.get("sound")!;
    expect(sound.server_requests).toBe(2n);
    expect(sound.server_generation_tokens).toBe(8n);
    expect(sound.server_ttft_s_mean).toEqual(expect.any(Number));
    expect(allNull("sound-with-start")).toEqual(allNull("sound"));
    const soundWarnings = logs.filter((l) => l.includes("/sound"));
    expect(soundWarnings.filter((l) => !l.startsWith("aggregating"))).toEqual([]);
  });

  it("are null with a `file: reason` warning when a scrape is missing, HTML, cut short or a directory", () => {
    const left = "server counter and histogram columns left empty";
    const expected: Record<string, string> = {
      "no-before": `${expPath("no-before", RAW_FILES.metricsBefore)}: missing; ${left}`,
      "no-after": `${expPath("no-after", RAW_FILES.metricsAfter)}: missing; ${left}`,
      "html-before": `${expPath("html-before", RAW_FILES.metricsBefore)}:1: not Prometheus text format: "<html>\\r"; ${left}`,
      "cut-before": `${expPath("cut-before", RAW_FILES.metricsBefore)}: truncated (the last line has no newline); ${left}`,
      "dir-before": `${expPath("dir-before", RAW_FILES.metricsBefore)}: is a directory, not a file; ${left}`,
    };
    for (const [id, warning] of Object.entries(expected)) {
      expect(allNull(id), id).toEqual(nulls());
      expect(logs, id).toContain(warning);
    }
  });

  it("leave out, and name, what a scrape cut at a line boundary lacks; the rest is right", () => {
    const cut = allNull("cut-at-line");
    const sound = allNull("sound");
    expect(cut.server_requests).toBeNull();
    for (const c of deltaColumns) if (cut[c] !== null) expect(cut[c], c).toEqual(sound[c]);
    const file = expPath("cut-at-line", RAW_FILES.metricsBefore);
    expect(logs).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${file}: no vllm:request_success_total\\{[^}]*\\} \\(and \\d+ more series\\), which metrics-after\\.prom has \\(a truncated scrape\\?\\); server_requests left empty$`,
        ),
      ),
    );
  });

  it("are null when the counters were reset or the scrapes swapped, and say which", () => {
    for (const id of ["swapped", "swapped-same-start", "restarted", "restarted-grew"]) {
      expect(allNull(id), id).toEqual(nulls());
    }
    const warning = (id: string) =>
      logs.find((l) => l.startsWith(expPath(id, RAW_FILES.metricsAfter)));
    expect(warning("swapped")).toMatch(
      /: vllm:\S+ went down \(\d+ → \d+\): a counter reset \(the server restarted\) or swapped scrapes; server counter and histogram columns left empty$/,
    );
    expect(warning("restarted")).toMatch(/went down .*: a counter reset \(the server restarted\)/);
    expect(warning("swapped-same-start")).toMatch(
      /went down \(\d+ → \d+\) though process_start_time_seconds is unchanged: the scrapes are swapped or from different servers; /,
    );
    expect(warning("restarted-grew")).toMatch(
      /: process_start_time_seconds changed \(1750000000 → 1750000060\): the server restarted between the scrapes, so its counters were reset; /,
    );
  });
});
