/**
 * Resume trusts a finished experiment only while everything that determined
 * its result is unchanged (issue 11, item 1), and the API key never reaches a
 * command line or a file (item 16). Real simulator processes throughout.
 */
import { copyFile, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExperimentInfoSchema, RAW_FILES, StatusSchema } from "../../formats/raw-layout.ts";
import { ServerRecordSchema } from "../../formats/server-record.ts";
import { REPO } from "../helpers/vscale-cli.ts";
import { readJson, runCli, startCli, tempDir, waitFor, writeMatrix } from "./helpers.ts";

/** A built-in step-time profile, copied so the test can edit it. */
const PROFILE = "llama-8b-h200";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("fingerprint");
});
afterEach(async () => {
  await dir.remove();
});

const KEY = "resume-test-key-7f3a9c";

const matrix = (model: string, serial: string) => `
campaign: fp
seed: 5
server:
  kind: sim
  model: ${model}
  port: auto
  health_timeout: 30s
  args: [--sim-time-scale, "4", --sim-serial-fraction, "${serial}"]
load:
  engine: node
  mode: closed
  users: 2
  duration: 1500ms
  max_tokens: 8
  api_key_env: FP_TEST_KEY
prompts:
  short: { file: prompts.txt }
factors:
  gpus: [1]
`;

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

describe("resume with fingerprints", () => {
  it("re-runs an ok experiment whose server args or model changed, saying why; the key stays in the environment", async () => {
    const env = { ...process.env, FP_TEST_KEY: KEY };
    const results = join(dir.path, "results");
    const file = await writeMatrix(dir.path, matrix("fp-8b", "0.08"));
    const args = ["campaign", file, "--results", results, "--no-analyze"];
    const expDir = join(results, "raw", "fp", "g1-tp1-r1");

    // While the server runs: its argv holds no key, its environment does, and it enforces it.
    const cli = startCli(args, env);
    const record = await waitFor(async () => {
      try {
        const r = ServerRecordSchema.parse(
          await readJson(join(results, "raw", "fp", "_servers", "g1-tp1.json")),
        );
        return r.starts[0]?.healthy_at ? r.starts[0] : undefined;
      } catch {
        return undefined;
      }
    }, "the server to become healthy");
    const cmdline = await readFile(`/proc/${record.pid}/cmdline`, "utf8");
    expect(cmdline).toContain("sim\0serve");
    expect(cmdline).not.toContain(KEY);
    expect(await readFile(`/proc/${record.pid}/environ`, "utf8")).toContain(`VLLM_API_KEY=${KEY}`);
    const unauthenticated = await fetch(`${record.url}/v1/models`);
    expect(unauthenticated.status).toBe(401);
    const first = await cli.done;
    expect(first.code).toBe(0);
    for (const f of await filesUnder(results)) {
      expect(await readFile(f, "utf8"), f).not.toContain(KEY);
    }
    const info = ExperimentInfoSchema.parse(await readJson(join(expDir, RAW_FILES.experiment)));
    expect(info.fingerprint?.digest).toMatch(/^[0-9a-f]{64}$/);

    // Unchanged: nothing to do.
    const same = await runCli([...args, "--dry-run"], env);
    expect(same.stdout).toContain("Would run 0 of 1 experiments");

    // A changed --sim-serial-fraction in args: the plan says it re-runs, and why.
    await writeFile(file, matrix("fp-8b", "0.2"));
    const serial = await runCli([...args, "--dry-run"], env);
    expect(serial.code).toBe(0);
    expect(serial.stdout).toContain("Would run 1 of 1 experiments");
    expect(serial.stdout).toContain("g1-tp1-r1: server args changed");
    expect(serial.stdout).not.toContain("model changed");

    // A changed model too; then the real run re-runs it.
    await writeFile(file, matrix("fp-70b", "0.2"));
    const model = await runCli([...args, "--dry-run"], env);
    expect(model.stdout).toContain("g1-tp1-r1: server args changed, model changed");
    const rerun = await runCli(args, env);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain("1 ok, 0 failed, 0 interrupted; skipped 0 already ok");
    const again = ExperimentInfoSchema.parse(await readJson(join(expDir, RAW_FILES.experiment)));
    expect(again.server.model).toBe("fp-70b");
    expect(again.fingerprint?.digest).not.toBe(info.fingerprint?.digest);
    expect(StatusSchema.parse(await readJson(join(expDir, RAW_FILES.status))).status).toBe("ok");
    expect((await runCli([...args, "--dry-run"], env)).stdout).toContain("Would run 0 of 1");
  });

  it("re-runs an ok experiment when a file its server args name changed (a --sim-profile)", async () => {
    const results = join(dir.path, "results");
    const profile = join(dir.path, "profile.json");
    await copyFile(join(REPO, "sim", "profiles", `${PROFILE}.json`), profile);
    const file = await writeMatrix(
      dir.path,
      matrix("fp-8b", "0.08")
        .replace("  api_key_env: FP_TEST_KEY\n", "")
        .replace('--sim-serial-fraction, "0.08"]', `--sim-profile, "${profile}"]`),
    );
    const args = ["campaign", file, "--results", results, "--no-analyze"];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    expect((await runCli([...args, "--dry-run"])).stdout).toContain("Would run 0 of 1");

    // A damaged experiment folder: the campaign's own analysis warns as `vscale aggregate` does.
    await rm(join(results, "raw", "fp", "g1-tp1-r1", RAW_FILES.metricsBefore));
    const analysed = await runCli(args.filter((a) => a !== "--no-analyze"));
    expect(analysed.code, analysed.stderr).toBe(0);
    expect(analysed.stderr).toMatch(/vscale: aggregate: .*metrics-before\.prom/);

    // The same path, other contents: resume used to call it "already ok".
    const text = await readFile(profile, "utf8");
    await writeFile(profile, `${text.trimEnd()}\n\n`);
    const changed = await runCli([...args, "--dry-run"]);
    expect(changed.stdout).toContain("Would run 1 of 1 experiments");
    expect(changed.stdout).toContain("g1-tp1-r1: a file named in the server args changed");
    expect(changed.stdout).not.toContain("server args changed,");
  });
});
