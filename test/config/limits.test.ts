/**
 * The bounds of config/limits.ts reach every command's flags, not only the
 * matrix: each command's own parser refuses a value past its limit with one
 * line naming the flag, before it reads results or starts anything.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerCompare } from "../../cli/compare.ts";
import { registerFit } from "../../cli/fit.ts";
import { registerK8s } from "../../cli/k8s.ts";
import { ConfigError } from "../../common/errors.ts";
import { LIMITS, MAX_DURATION_MS } from "../../config/limits.ts";

async function refusal(register: (p: Command) => void, argv: string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  const error = await program.parseAsync(["node", "vscale", ...argv]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, argv.join(" ")).toBeInstanceOf(ConfigError);
  return (error as ConfigError).format();
}

describe("limits on every command's flags", () => {
  // An empty results folder: a flag that got past its check would fail later, on missing data.
  const empty = mkdtempSync(join(tmpdir(), "vscale-limits-"));

  it("fit and report refuse --bootstrap past its limit", async () => {
    const line = await refusal(registerFit, ["fit", "--results", empty, "--bootstrap", "1e9"]);
    expect(line).toContain("--bootstrap");
    expect(line).toContain("at most 100,000 replicates");
    expect(line).not.toContain("\n");
  });

  it("compare refuses --bootstrap past its limit", async () => {
    const line = await refusal(registerCompare, ["compare", empty, empty, "--bootstrap", "1e12"]);
    expect(line).toContain("--bootstrap");
    expect(line).toContain("at most 100,000");
  });

  it("k8s refuses --segments past its limit", async () => {
    const matrix = join(empty, "external.yaml");
    writeFileSync(
      matrix,
      [
        "campaign: k8s-limits",
        'server: { kind: external, model: m, url: "http://vllm.example:8000" }',
        "load: { users: 4, duration: 2s }",
        "prompts: { s: { tokens: { dist: fixed, mean: 16 } } }",
        "",
      ].join("\n"),
    );
    const line = await refusal(registerK8s, ["k8s", matrix, "g1-tp1-r1", "--segments", "1000000"]);
    expect(line).toContain("--segments");
    expect(line).toContain("at most 1,024 segments");
  });

  it("keeps durations below Node's timer overflow (2^31 − 1 ms)", () => {
    expect(MAX_DURATION_MS).toBeLessThan(2 ** 31 - 1);
    for (const [name, limit] of Object.entries(LIMITS))
      expect(Number.isSafeInteger(limit.max), name).toBe(true);
  });
});
