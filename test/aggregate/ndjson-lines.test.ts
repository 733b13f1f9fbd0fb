import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLines } from "../../analysis/aggregate/ndjson-lines.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vscale-ndjson-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(file: string, blockBytes?: number) {
  const out = [];
  for await (const line of readLines(file, blockBytes)) out.push(line);
  return out;
}

describe("readLines", () => {
  it("yields every line with blocks smaller than a line, multi-byte characters intact (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => s.replaceAll("\n", " ")),
          { minLength: 1, maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        async (lines, blockBytes, terminated) => {
          const file = join(dir, "small.ndjson");
          await writeFile(file, lines.join("\n") + (terminated ? "\n" : ""));
          const got = await collect(file, blockBytes);
          const last = lines[lines.length - 1];
          const lastUnterminated = !terminated && last !== undefined && last !== "";
          const expected = terminated || lastUnterminated ? lines : lines.slice(0, -1);
          expect(got.map((l) => l.text)).toEqual(expected);
          expect(got.map((l) => l.lineNo)).toEqual(expected.map((_, i) => i + 1));
          expect(got.filter((l) => !l.terminated).length).toBe(lastUnterminated ? 1 : 0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("yields every line across 1 MiB chunk boundaries, multi-byte characters intact (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => s.replaceAll("\n", " ")),
          {
            maxLength: 30,
          },
        ),
        fc.nat(300_000),
        fc.boolean(),
        async (lines, padding, terminated) => {
          // A long first line pushes the rest across the stream's chunk boundary.
          const all = [`${"é".repeat(padding)}`, ...lines];
          const file = join(dir, "p.ndjson");
          await writeFile(file, all.join("\n") + (terminated ? "\n" : ""));
          const got = await collect(file);
          const lastUnterminated = !terminated && all[all.length - 1] !== "";
          const expected = terminated || lastUnterminated ? all : all.slice(0, -1);
          expect(got.map((l) => l.text)).toEqual(expected);
          expect(got.map((l) => l.lineNo)).toEqual(expected.map((_, i) => i + 1));
          expect(got.filter((l) => !l.terminated).length).toBe(lastUnterminated ? 1 : 0);
        },
      ),
      { numRuns: 25 },
    );
  });
});
