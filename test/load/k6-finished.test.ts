/**
 * The k6 engine's finishing touches, without k6 installed: requests cut at
 * the window's end are `cancelled` (k6 reports them as timeouts), the SSE
 * scenario is refused up front when the k6 binary lacks xk6-sse (a real
 * stand-in binary prints `k6 version` as an xk6 build does), and the scenario
 * takes k6's own `-e` variables when vscale does not pass VSCALE_PARAMS.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertEnginesAvailable } from "../../campaign/engines.ts";
import { ConfigError } from "../../common/errors.ts";
import { type K6HttpResponse, recordFromK6Http } from "../../load/k6/http-record.ts";
import { buildK6Options, paramsFromEnv } from "../../load/k6/options.ts";
import { hasSseExtension } from "../../load/k6/runner.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-k6-finished-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const T0 = 1_780_000_000_000;
/** What k6 v1.3's http.post returned for a request the scenario's end interrupted. */
const interrupted = (durationMs: number): K6HttpResponse => ({
  status: 0,
  error_code: 1050,
  error: "request timeout",
  headers: {},
  body: null,
  timings: { blocked: 0, connecting: 0, tls_handshaking: 0, duration: durationMs },
});
const request = (startMs: number) => ({
  experimentId: "e",
  promptSet: "p",
  requestId: "u0-3",
  promptTokens: null,
  warmup: false,
  api: "chat" as const,
  stream: true,
  startMs,
  windowEndMs: T0 + 4_000,
  timeoutMs: 120_000,
});

describe("k6 records", () => {
  it("a request cut at the window's end is cancelled, not a timeout", () => {
    const r = recordFromK6Http(request(T0 + 3_700), interrupted(300));
    expect(r.error_kind).toBe("cancelled");
    expect(r.ok).toBe(false);
  });

  it("a real timeout, or a failure mid-window, stays a timeout", () => {
    const late = recordFromK6Http(request(T0 - 116_100), interrupted(120_100));
    expect(late.error_kind).toBe("timeout");
    const early = recordFromK6Http(request(T0 + 1_000), interrupted(300));
    expect(early.error_kind).toBe("timeout");
  });
});

async function fakeK6(name: string, extensions: string[]): Promise<string> {
  const file = join(dir, name);
  const body =
    extensions.length > 0 ? `Extensions:\n${extensions.map((e) => `  ${e}`).join("\n")}\n` : "";
  await writeFile(
    file,
    `#!/bin/sh\nprintf 'k6 v1.3.0 (go1.24.6, linux/amd64)\\n${body.replaceAll("\n", "\\n")}'\n`,
  );
  await chmod(file, 0o755);
  return file;
}

describe("k6 with SSE", () => {
  it("reads the extension list `k6 version` prints", () => {
    expect(
      hasSseExtension(
        "k6 v1.3.0\nExtensions:\n  github.com/phymbert/xk6-sse v0.1.10, k6/x/sse [js]\n",
      ),
    ).toBe(true);
    expect(hasSseExtension("k6 v1.3.0 (go1.24.6, linux/amd64)\n")).toBe(false);
    expect(
      hasSseExtension("Extensions:\n  github.com/grafana/xk6-sql v1.0.0, k6/x/sql [js]\n"),
    ).toBe(false);
  });

  it("refuses k6_sse before any server starts when the binary lacks it, and says what to install", async () => {
    const plain = await fakeK6("k6-plain", []);
    const sse = await fakeK6("k6-sse", ["github.com/phymbert/xk6-sse v0.1.10, k6/x/sse [js]"]);
    const loads = [{ engine: "k6" as const, k6_sse: true }];
    const refused = await assertEnginesAvailable(loads, "m.yaml", plain).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).format()).toMatch(
      /load\.k6_sse.*xk6 build --with github.com\/phymbert\/xk6-sse/,
    );
    await expect(assertEnginesAvailable(loads, "m.yaml", sse)).resolves.toBeUndefined();
    // Plain k6 is enough without k6_sse.
    await expect(
      assertEnginesAvailable([{ engine: "k6", k6_sse: false }], "m.yaml", plain),
    ).resolves.toBeUndefined();
    const missing = await assertEnginesAvailable(loads, "m.yaml", join(dir, "nope")).catch(
      (e: unknown) => e,
    );
    expect((missing as ConfigError).format()).toMatch(/not on PATH/);
  });
});

describe("k6 run load/k6/chat.ts on its own", () => {
  it("takes BASE_URL, MODEL, VUS and DURATION from -e", () => {
    const params = paramsFromEnv({
      BASE_URL: "http://10.0.0.5:8000",
      MODEL: "m",
      VUS: "8",
      DURATION: "45s",
    });
    expect(params.schedule).toEqual({ mode: "closed", users: 8, thinkTimeMs: 0 });
    expect(params.durationMs).toBe(45_000);
    expect(params.summaryFile).toBe("");
    const scenario = (buildK6Options(params).scenarios as { load: Record<string, unknown> }).load;
    expect(scenario.executor).toBe("ramping-vus");
    expect(scenario.startVUs).toBe(8);
  });

  it("says what is missing or malformed", () => {
    expect(() => paramsFromEnv({ MODEL: "m" })).toThrow(/BASE_URL/);
    expect(() => paramsFromEnv({ BASE_URL: "http://h", MODEL: "m", DURATION: "45" })).toThrow(
      /-e DURATION/,
    );
    // vscale's own parameters win when present.
    const packed = paramsFromEnv({ VSCALE_PARAMS: JSON.stringify({ model: "x" }), MODEL: "m" });
    expect(packed.model).toBe("x");
  });
});
