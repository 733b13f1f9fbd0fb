/**
 * The bad-input catalogue: every malformed matrix, prompt file and
 * environment we know of gets one line naming file, line:column, field and
 * what was expected, and exit 2 from `vscale plan`, before any server starts
 * and with nothing written. Committed cases live in test/fixtures/matrix/bad/
 * (first line `# expect: a | b @line:col`, optional `# in: FILE` when the
 * error points into another file than the matrix); generated ones (a FIFO, a
 * binary file, a 50 MB matrix) are made here in a temp dir.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isVscaleError } from "../../common/errors.ts";
import { MAX_EXPERIMENTS } from "../../config/expand.ts";
import { MAX_MATRIX_BYTES, parseMatrix } from "../../config/matrix-file.ts";
import { loadPlan } from "../../config/plan.ts";
import { MAX_DURATION_MS } from "../../config/values.ts";
import { readPromptFile } from "../../load/node/prompt-files.ts";
import { REPO, startCli } from "../helpers/vscale-cli.ts";

const BAD_REL = "test/fixtures/matrix/bad";
const BAD = join(REPO, BAD_REL);

interface Case {
  /** The matrix, relative to the repository root (the CLI runs there). */
  matrix: string;
  /** The file the error must start with (the matrix unless a prompt file is at fault). */
  file: string;
  fragments: string[];
  at?: string;
}

function committed(name: string): Case {
  const [first = "", second = ""] = readFileSync(join(BAD, name), "utf8").split("\n");
  const match = /^# expect: (.*?)(?: @(\d+(?::\d+)?))?$/.exec(first);
  if (!match) throw new Error(`${name}: first line must be "# expect: …"`);
  const inFile = /^# in: (.+)$/.exec(second)?.[1];
  return {
    matrix: `${BAD_REL}/${name}`,
    file: `${BAD_REL}/${inFile ?? name}`,
    fragments: (match[1] as string).split(" | "),
    at: match[2],
  };
}

// --- generated cases: files that cannot (or should not) be committed

const GEN = mkdtempSync(join(tmpdir(), "vscale-bad-"));
afterAll(() => rmSync(GEN, { recursive: true, force: true }));
const GEN_REL = relative(REPO, GEN);

function matrixUsing(promptFile: string): string {
  return [
    "campaign: generated",
    "server: { kind: sim, model: tiny }",
    "load: { users: 4, duration: 2s }",
    "prompts:",
    `  short: { file: ${promptFile} }`,
    "",
  ].join("\n");
}

function generated(name: string, fragments: string[], at?: string, inFile?: string): Case {
  return { matrix: `${GEN_REL}/${name}`, file: `${GEN_REL}/${inFile ?? name}`, fragments, at };
}

// A FIFO: reading it would wait for a writer forever (issue 11, item 11).
spawnSync("mkfifo", [join(GEN, "fifo.txt")]);
writeFileSync(join(GEN, "fifo-prompts.yaml"), matrixUsing("fifo.txt"));
// A gzip header where text belongs: a NUL byte at line 1, column 4.
writeFileSync(join(GEN, "binary.txt"), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x41, 0x0a]));
writeFileSync(join(GEN, "binary-prompts.yaml"), matrixUsing("binary.txt"));
// Latin-1 bytes, not UTF-8.
writeFileSync(join(GEN, "latin1.txt"), Buffer.from("caf\xe9 au lait\n", "latin1"));
writeFileSync(join(GEN, "latin1-prompts.yaml"), matrixUsing("latin1.txt"));
// A 50 MB matrix: valid YAML, padded with a comment.
writeFileSync(join(GEN, "huge.yaml"), `${matrixUsing("p.txt")}#${"x".repeat(50 * 1024 * 1024)}\n`);
// A directory and a FIFO where the matrix belongs.
mkdirSync(join(GEN, "dir.yaml"));
spawnSync("mkfifo", [join(GEN, "fifo.yaml")]);

const GENERATED: Case[] = [
  generated("fifo-prompts.yaml", ["fifo.txt is a FIFO", "prompts.short.file"], "5:18"),
  generated(
    "binary-prompts.yaml",
    ["is binary (a NUL byte)", "prompts.short.file"],
    "1:4",
    "binary.txt",
  ),
  generated("latin1-prompts.yaml", ["latin1.txt is not UTF-8 text", "prompts.short.file"], "5:18"),
  generated("huge.yaml", ["matrix file is 50.0 MiB, more than the limit of 1 MiB"]),
  generated("dir.yaml", ["matrix file is a directory"]),
  generated("fifo.yaml", ["matrix file is not a regular file"]),
];

const COMMITTED = readdirSync(BAD)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map(committed);
const CASES = [...COMMITTED, ...GENERATED];
const name = (c: Case) => c.matrix.split("/").pop() as string;

/**
 * The process test below proves what only a process shows (exit 2, one stderr line, empty
 * stdout, nothing written, a FIFO not waited on); every message is checked in-process above.
 * So it runs every generated case (files the OS treats specially) and one committed case per
 * stage that can refuse: YAML, schema, secrets, expansion, limits, environment, prompt files.
 */
const PROCESS_STAGES = [
  "01-bad-yaml.yaml",
  "02-unknown-key.yaml",
  "07-missing-prompt-file.yaml",
  "09-tp-dp-gpus.yaml",
  "11-secret-inline.yaml",
  "28-prompt-jsonl-bad-line.yaml",
  "31-env-unset.yaml",
  "39-alias-bomb.yaml",
  "40-repeats-too-many.yaml",
  "44-scenario-with-users.yaml",
  "50-users-per-gpu-huge.yaml",
  "57-prompt-set-non-ascii.yaml",
];
const PROCESS_CASES = [...COMMITTED.filter((c) => PROCESS_STAGES.includes(name(c))), ...GENERATED];

/** The environment plan runs in: none of the variables the fixtures name is set. */
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith("VSCALE_TEST_")),
);

describe("the bad-input catalogue", () => {
  it("has every case of issue 11's items 12–14", () => {
    expect(COMMITTED.length).toBeGreaterThanOrEqual(42);
    expect(CASES.length).toBeGreaterThanOrEqual(48);
  });

  it.each(CASES.map((c) => [name(c), c] as const))(
    "%s gives one error naming file, position and field",
    async (_name, c) => {
      const error = await loadPlan(join(REPO, c.matrix), { env: ENV, readPromptFile }).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!isVscaleError(error)) throw error;
      expect(error.exitCode).toBe(2);
      const message = error.format();
      const file = join(REPO, c.file);
      expect(message.startsWith(file)).toBe(true);
      for (const fragment of c.fragments) expect(message).toContain(fragment);
      if (c.at) expect(message).toContain(`${file}:${c.at}:`);
      expect(message).not.toContain("\n");
    },
  );

  it("refuses matrix text over the size limit before parsing it", () => {
    const text = `${matrixUsing("p.txt")}#${"x".repeat(MAX_MATRIX_BYTES)}`;
    expect(() => parseMatrix(text, "big.yaml")).toThrow(/more than the limit of 1 MiB/);
  });

  it("names the limits in what it refuses", () => {
    expect(MAX_EXPERIMENTS).toBe(10_000);
    expect(MAX_DURATION_MS).toBeLessThan(2 ** 31 - 1); // Node's timers overflow beyond
  });
});

describe.concurrent("vscale plan on bad input (real process)", () => {
  it("samples every refusing stage", () => {
    expect(PROCESS_CASES.length).toBe(PROCESS_STAGES.length + GENERATED.length);
  });

  it.each(PROCESS_CASES.map((c) => [name(c), c] as const))(
    "%s exits 2 with one line on stderr and nothing written",
    async (_name, c) => {
      const before = [readdirSync(BAD).sort(), readdirSync(GEN).sort()];
      const cli = startCli(["plan", c.matrix], ENV);
      // A FIFO must be refused, not waited on: a blocked plan is killed and fails here.
      const timer = setTimeout(() => cli.child.kill("SIGKILL"), 50_000);
      const run = await cli.done;
      clearTimeout(timer);
      expect(run.signal).toBeNull();
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(c.at ? `${c.file}:${c.at}` : c.file);
      for (const fragment of c.fragments) expect(lines[0]).toContain(fragment);
      expect([readdirSync(BAD).sort(), readdirSync(GEN).sort()]).toEqual(before);
    },
  );
});
