import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerLoad } from "../../cli/load.ts";
import { ConfigError } from "../../common/errors.ts";
import { startCli, until } from "../helpers/vscale-cli.ts";
import { readRecords, tempDir } from "./helpers.ts";
import { type PlantedServer, startPlantedServer } from "./planted-server.ts";

/** The real CLI as a process; `sigintAfter(stderr)` says when to press Ctrl-C. */
async function vscale(
  args: string[],
  env: Record<string, string> = {},
  sigintAfter?: (text: string) => boolean,
) {
  const cli = startCli(args, { ...process.env, ...env });
  if (sigintAfter) {
    // Interrupt once the run is under way (the model was resolved and requests went out).
    void until(() => cli.child.exitCode !== null || sigintAfter(cli.stderr()), 60_000).then(() => {
      if (cli.child.exitCode === null) cli.child.kill("SIGINT");
    });
  }
  return cli.done;
}

let dir: string;
let cleanup: () => Promise<void>;
let server: PlantedServer;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  server = await startPlantedServer({
    plan: (body) => ({
      ttftMs: 5,
      itlMs: 2,
      tokens: 4,
      fault: JSON.stringify(body).includes("FAIL") ? "http500" : "none",
    }),
    tokenize: true,
  });
  await writeFile(join(dir, "prompts.txt"), "hello there\nplease FAIL\n");
});
afterAll(async () => {
  await server.close();
  await cleanup();
});

describe("vscale load", () => {
  it("runs against a URL, asks /v1/models for the model and prints a summary", async () => {
    const out = join(dir, "requests.ndjson");
    const secret = "sk-cli-secret-42";
    const run = await vscale(
      [
        "load",
        ...["--url", `${server.url}/v1`, "--prompts", join(dir, "prompts.txt"), "--users", "4"],
        ...["--duration", "600ms", "--warmup", "100ms", "--out", out, "--api-key-env", "MY_KEY"],
        // The cool-down follows every request sent in the window to its end, capped at the
        // timeout + 1 s: a request the server never answers must not hold the run for 2 minutes.
        ...["--timeout", "5s"],
      ],
      { MY_KEY: secret },
    );
    expect(run.stderr).not.toContain(secret);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("model       planted-model");
    expect(run.stdout).toMatch(/throughput {2}\d+\.\d+ req\/s/);
    expect(run.stdout).toMatch(/errors {6}.*http_5xx \d+/);
    expect(run.stdout).not.toContain(secret);
    const records = await readRecords(out);
    expect(records.some((r) => r.ok)).toBe(true);
    expect(records.some((r) => r.error_kind === "http_5xx")).toBe(true);
    expect(new Set(records.map((r) => r.experiment_id))).toEqual(new Set(["adhoc"]));
  });

  it("runs an open loop of calibrated synthetic prompts and prints JSON", async () => {
    const out = join(dir, "open.ndjson");
    const run = await vscale([
      "load",
      ...["--url", server.url, "--model", "m", "--prompts", "synthetic:30-60", "--rate", "50"],
      ...[
        "--arrival",
        "gamma",
        "--burstiness",
        "0.5",
        "--duration",
        "500ms",
        "--out",
        out,
        "--json",
      ],
    ]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      requestsOk: number;
      model: string;
      reqPerS: number;
    };
    expect(summary.model).toBe("m");
    expect(summary.requestsOk).toBeGreaterThan(5);
    const records = await readRecords(out);
    for (const r of records.filter((x) => x.ok)) {
      expect(r.prompt_tokens).toBe(7); // usage from the planted server wins over the calibrated count
    }
  });

  it("stops cleanly on SIGINT and keeps the records", async () => {
    const out = join(dir, "interrupted.ndjson");
    const before = server.requests;
    const run = await vscale(
      [
        "load",
        ...["--url", server.url, "--model", "m", "--prompts", "synthetic:5", "--users", "2"],
        ...["--duration", "1m", "--out", out],
      ],
      {},
      () => server.requests >= before + 20,
    );
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("interrupted");
    expect(run.stdout).toContain("(interrupted)");
    const records = await readRecords(out);
    expect(records.filter((r) => r.ok).length).toBeGreaterThanOrEqual(15);
  });

  it("refuses bad flags with exit 2, naming the flag", async () => {
    const cases: Array<[string[], string]> = [
      [["--users", "2", "--rate", "3"], "--users"],
      [["--duration", "5"], "--duration"],
      [["--api-key-env", "VSCALE_SURELY_UNSET"], "--api-key-env"],
      [["--prompts", "no-such-file.txt"], "--prompts"],
    ];
    const requestsBeforeRefusals = server.requests;
    // In parallel: each is a process start-up, nothing more.
    const runs = await Promise.all(
      cases.map(([extra]) =>
        vscale(["load", "--url", server.url, "--model", "m", "--prompts", "synthetic:5", ...extra]),
      ),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(cases[i]![1]);
    }
    expect(server.requests).toBe(requestsBeforeRefusals);
  });

  it("refuses flags past the matrix's limits (config/limits.ts) with the same message", async () => {
    // Each used to run: 1e8 users or a 1e9 rate ended in a V8 fatal error, 600h timers overflowed.
    // In-process (the command's own parser and action); the next test covers the process's exit 2.
    const cases: Array<[string[], string, string]> = [
      [["--users", "1e8"], "--users", "at most 65,536 users"],
      [["--rate", "1e9"], "--rate", "at most 100,000 requests/s"],
      [["--duration", "600h"], "--duration", "at most 24h"],
      [["--timeout", "600h"], "--timeout", "at most 24h"],
      [["--think-time", "600h"], "--think-time", "at most 24h"],
      [["--workers", "1000000"], "--workers", "at most 512 worker threads"],
      [["--max-tokens", "1e9"], "--max-tokens", "at most 2,097,152 tokens"],
      [["--spawn-rate", "1e12"], "--spawn-rate", "at most 10,000,000 users/s"],
      [
        ["--scenario", "prefill-only", "--batch-size", "4", "--prompt-tokens", "1e9"],
        "--prompt-tokens",
        "at most 2,097,152 tokens",
      ],
    ];
    const requestsBefore = server.requests;
    for (const [extra, flag, message] of cases) {
      const program = new Command().exitOverride();
      registerLoad(program);
      const prompts = extra.includes("--scenario") ? [] : ["--prompts", "synthetic:5"];
      const error = await program
        .parseAsync(["node", "vscale", "load", "--url", server.url, ...prompts, ...extra])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error, flag).toBeInstanceOf(ConfigError);
      const line = (error as ConfigError).format();
      expect(line).not.toContain("\n");
      expect(line).toContain(flag);
      expect(line).toContain(message);
    }
    expect(server.requests).toBe(requestsBefore);
  });

  it("refuses bad flags with exit 2 before reaching for the server (even a down one)", async () => {
    const probe = await startPlantedServer({ plan: () => ({ ttftMs: 1, itlMs: 1 }) });
    const downUrl = probe.url;
    await probe.close();
    const cases: Array<[string[], string]> = [
      [["--timeout", "soon"], "--timeout"],
      [["--duration", "0s"], "--duration"],
      [["--timeout", "0s"], "--timeout"],
      [["--max-tokens", "0"], "--max-tokens"],
      [["--warmup", "x"], "--warmup"],
      [["--users", "1e8"], "at most 65,536 users"],
      [["--duration", "600h"], "at most 24h"],
    ];
    const runs = await Promise.all(
      cases.map(([extra]) =>
        vscale(["load", "--url", downUrl, "--prompts", "synthetic:5", ...extra]),
      ),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.stderr).toContain(cases[i]![1]);
      expect(run.code).toBe(2);
    }
  });
});
