import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StartedServer, startGroupServer } from "../../campaign/group-server.ts";
import {
  gaugeSamples,
  scrapeMetrics,
  scrapeMetricsTo,
  startGaugeSampler,
} from "../../campaign/metrics-scraper.ts";
import { MetricSampleSchema } from "../../formats/raw-layout.ts";
import { tempDir, tinyGroup } from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
let server: StartedServer;
beforeAll(async () => {
  dir = await tempDir("metrics");
  server = await startGroupServer(tinyGroup(), { campaignDir: dir.path });
});
afterAll(async () => {
  await server?.stop("done");
  await dir.remove();
});

describe("metrics scraper", () => {
  it("stores /metrics as text", async () => {
    const file = join(dir.path, "metrics-before.prom");
    expect(await scrapeMetricsTo(server.url, file)).toBe(true);
    const text = await readFile(file, "utf8");
    expect(text).toContain("# TYPE vllm:num_requests_running gauge");
    expect(text).toContain("vllm:prompt_tokens_total");
  });

  it("returns null for a server without /metrics", async () => {
    expect(await scrapeMetrics(`${server.url}/nothing-here`)).toBeNull();
    expect(await scrapeMetrics("http://127.0.0.1:1")).toBeNull();
  });

  it("keeps only vllm: gauges, with labels", () => {
    const text = [
      "# TYPE vllm:num_requests_waiting gauge",
      'vllm:num_requests_waiting{model_name="m",engine="0"} 7',
      "# TYPE vllm:generation_tokens_total counter",
      'vllm:generation_tokens_total{model_name="m"} 9',
      "# TYPE process_open_fds gauge",
      "process_open_fds 3",
    ].join("\n");
    expect(gaugeSamples(text, 42)).toEqual([
      {
        t_us: 42,
        metric: "vllm:num_requests_waiting",
        labels: { model_name: "m", engine: "0" },
        value: 7,
      },
    ]);
  });

  it("samples gauges every interval into metrics.ndjson", async () => {
    const file = join(dir.path, "metrics.ndjson");
    const sampler = startGaugeSampler({ url: server.url, outFile: file, intervalMs: 100 });
    await new Promise((r) => setTimeout(r, 550));
    const written = await sampler.stop();
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(written);
    const samples = lines.map((l) => MetricSampleSchema.parse(JSON.parse(l)));
    const metrics = new Set(samples.map((s) => s.metric));
    expect(metrics).toEqual(new Set(["vllm:num_requests_running", "vllm:kv_cache_usage_perc"]));
    // Two gauges per scrape, several scrapes, in time order.
    expect(samples.length).toBeGreaterThanOrEqual(6);
    const times = samples.map((s) => s.t_us);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The tiny server's running gauge counts its scrapes: successive samples grow.
    const running = samples.filter((s) => s.metric === "vllm:num_requests_running");
    expect(running.map((s) => s.value)).toEqual(
      [...running.map((s) => s.value)].sort((a, b) => a - b),
    );
  });
});
