/**
 * A file the CLI cannot write (a full disk, a file where a folder belongs)
 * is one line naming that file and exit 1, never a stack trace; control
 * characters from input never reach the terminal raw.
 */
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { asFileError, escapeControl, FileError } from "../../common/errors.ts";
import { syntheticInfo, writeSyntheticExperiment } from "../aggregate/synthetic-campaign.ts";
import { startCli } from "../helpers/vscale-cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-file-errors-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("files that cannot be written", () => {
  it("names the file when its folder is a file", async () => {
    await writeFile(join(dir, "blocker"), "");
    const target = join(dir, "blocker", "summary.csv");
    const error = await writeFileAtomic(target, "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileError);
    expect((error as FileError).format()).toContain(`cannot write ${target}`);
    expect((error as FileError).format()).toContain("blocker (or a folder above it) is a file");
  });

  it("names the file on a full disk (the kernel's /dev/full answers every write with ENOSPC)", async () => {
    const handle = await open("/dev/full", "w");
    const error = await handle
      .writeFile("x")
      .catch((e: unknown) => e)
      .finally(() => handle.close());
    const wrapped = asFileError(error, "write", "results/agg/summary.parquet");
    expect(wrapped).toBeInstanceOf(FileError);
    expect((wrapped as FileError).format()).toBe(
      "cannot write results/agg/summary.parquet: no space left on the device (ENOSPC)",
    );
  });

  it("vscale aggregate with agg/ a regular file: one line, exit 1, no stack", async () => {
    const results = join(dir, "results");
    await writeSyntheticExperiment(results, {
      info: syntheticInfo({ experimentId: "e1" }),
      requests: [],
    });
    await writeFile(join(results, "agg"), "not a folder");
    const run = await startCli(["aggregate", "--results", results], process.env).done;
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("vscale:"))).toHaveLength(1);
    expect(run.stderr).toContain(join(results, "agg"));
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it("escapes NUL and ESC before they reach the terminal", () => {
    expect(escapeControl("a\u0000b\u001b[2Jc")).toBe("a\\u0000b\\u001b[2Jc");
    expect(escapeControl("tab\tkept")).toBe("tab\tkept");
  });
});
