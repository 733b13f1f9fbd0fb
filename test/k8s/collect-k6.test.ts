/**
 * k6-operator runners → segments: runner consoles written as k6 writes them
 * with `--log-format=raw --console-output` (one console.log message a line:
 * the setup() start marker, then records built by the scenario's own
 * recordFromK6Http from k6-shaped responses), collected by `vscale
 * k8s-collect`, then merged by `vscale aggregate` like Node segments.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { k8sManifests } from "../../cli/k8s.ts";
import { recordFromK6Http } from "../../load/k6/http-record.ts";
import { START_MARKER } from "../../load/k6/options.ts";
import { readParquetRows } from "../aggregate/duckdb-read.ts";
import { runCli } from "../helpers/vscale-cli.ts";

let dir: string;
const EXP = "g1-tp1-r1";
const T0 = 1_780_000_000_000; // ms

const body = (tokens: number) =>
  `data: {"choices":[{"index":0,"delta":{"content":" hi"}}]}\n\n`.repeat(tokens) +
  `data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":${tokens}}}\n\ndata: [DONE]\n\n`;

/** One runner's console: its start, then `n` requests of 200 ms, one every 100 ms. */
function consoleText(startMs: number, n: number, offset: number): string {
  const lines = [JSON.stringify({ [START_MARKER]: startMs * 1000 })];
  for (let i = 0; i < n; i++) {
    const record = recordFromK6Http(
      {
        experimentId: EXP,
        promptSet: "short",
        requestId: `u${offset + (i % 2)}-${Math.floor(i / 2)}`,
        promptTokens: 9,
        warmup: false,
        api: "chat",
        stream: true,
        startMs: startMs + i * 100,
        windowEndMs: startMs + 2_000,
        timeoutMs: 60_000,
      },
      {
        status: 200,
        error_code: 0,
        headers: { "Content-Type": "text/event-stream" },
        body: body(4),
        timings: { blocked: 0, connecting: 0, tls_handshaking: 0, duration: 200 },
      },
    );
    lines.push(JSON.stringify(record));
  }
  lines.push('time="2026-12-02T07:00:00Z" level=info msg="not a record"');
  return `${lines.join("\n")}\n`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-k6-collect-"));
  await writeFile(
    join(dir, "m.yaml"),
    `campaign: k6seg
server: { kind: external, model: m, url: "http://10.0.0.5:8000" }
load: { engine: k6, mode: closed, users: 4, duration: 2s, segments: 2 }
prompts:
  short: { tokens: { dist: fixed, mean: 9 }, count: 4 }
`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("vscale k8s-collect", () => {
  it("turns each runner's console into a segment that vscale aggregate merges", async () => {
    const [config] = await k8sManifests(join(dir, "m.yaml"), EXP, {
      image: "i",
      workdir: "/vscale",
      claim: "c",
    });
    const expDir = join(dir, "results", "raw", "k6seg", EXP);
    await mkdir(join(expDir, "k6", "k6seg-k6-1-abcde"), { recursive: true });
    await mkdir(join(expDir, "k6", "k6seg-k6-2-fghij"), { recursive: true });
    await writeFile(
      join(expDir, "experiment.json"),
      (config as unknown as { data: Record<string, string> }).data["experiment.json"]!,
    );
    await writeFile(join(expDir, "k6", "k6seg-k6-1-abcde", "console.log"), consoleText(T0, 10, 0));
    await writeFile(
      join(expDir, "k6", "k6seg-k6-2-fghij", "console.log"),
      consoleText(T0 + 30, 12, 2),
    );
    const collected = await runCli(["k8s-collect", expDir]);
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toMatch(/2 runner\(s\), 22 records; status ok/);
    const agg = await runCli(["aggregate", "--results", join(dir, "results")]);
    expect(agg.code, agg.stderr).toBe(0);
    const [row] = await readParquetRows(join(dir, "results", "agg", "summary.parquet"));
    // Every request ended inside its runner's 2 s window: all 22 count, from both runners.
    expect(Number(row?.requests_ok)).toBe(22);
    expect(row?.engine).toBe("k6");
    expect(Number(row?.window_s)).toBeCloseTo(2, 6);
    expect(row?.client_limited).toBeNull();
    const requests = await readParquetRows(join(dir, "results", "agg", "requests.parquet"));
    expect(requests).toHaveLength(22);
  });
});
