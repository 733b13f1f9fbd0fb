import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../common/errors.ts";
import { loadPlan } from "../../config/plan.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BAD = join(ROOT, "test/fixtures/matrix/bad");
const BIN = join(ROOT, "bin/vscale.mjs");

/** Each fixture's first line says what its message must contain: `# expect: a | b @line:col`. */
function expectation(file: string): { fragments: string[]; at?: string } {
  const first = readFileSync(join(BAD, file), "utf8").split("\n")[0] ?? "";
  const match = /^# expect: (.*?)(?: @(\d+(?::\d+)?))?$/.exec(first);
  if (!match) throw new Error(`${file}: first line must be "# expect: …"`);
  return { fragments: (match[1] as string).split(" | "), at: match[2] };
}

const fixtures = readdirSync(BAD)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("malformed matrices", () => {
  it("the catalogue has at least 15 cases", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
  });

  it.each(fixtures)("%s gives one clear ConfigError", async (file) => {
    const { fragments, at } = expectation(file);
    const path = join(BAD, file);
    const error = await loadPlan(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).format();
    expect(message.startsWith(path)).toBe(true);
    for (const fragment of fragments) expect(message).toContain(fragment);
    if (at) expect(message).toContain(`${path}:${at}`);
    expect(message).not.toContain("\n");
  });
});

describe("vscale plan on malformed matrices (real process)", () => {
  it.each(fixtures)("%s exits 2 with one line on stderr and nothing written", (file) => {
    const before = readdirSync(BAD).sort();
    const result = spawnSync(
      process.execPath,
      [BIN, "plan", join("test/fixtures/matrix/bad", file)],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`test/fixtures/matrix/bad/${file}`);
    for (const fragment of expectation(file).fragments) expect(lines[0]).toContain(fragment);
    expect(readdirSync(BAD).sort()).toEqual(before);
  });
});
