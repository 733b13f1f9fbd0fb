/**
 * The tree's import rules, over every `.ts` file: no import cycles, and no
 * import from a lower layer up to a higher one. Layers, low → high: common,
 * stats, config, formats, sim, load, campaign, analysis, cli, bench; test/
 * may import anything. Relative imports only (packages are not layers); type
 * imports count, since a cycle of types is still two modules that need each
 * other. Known violations outside the fit/report area are listed below, so
 * the test still fails on any new one.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const LAYERS = [
  "common",
  "stats",
  // The matrix's factor table defines summary columns (formats/agg-tables.ts), so config sits below formats.
  "config",
  "formats",
  "sim",
  "load",
  "campaign",
  "analysis",
  "cli",
  "bench",
] as const;
const SKIP = new Set(["node_modules", ".git", "results", "fixtures"]);

/** Upward imports that exist today, `from → to`; each is the integrator's to remove. */
const KNOWN_UPWARD = new Set<string>([
  // Benches reuse test helpers (planted servers, synthetic campaigns, the DuckDB reader).
  "bench/aggregate.ts → test/aggregate/duckdb-read.ts",
  "bench/aggregate.ts → test/aggregate/synthetic-campaign.ts",
  "bench/load.ts → test/load/helpers.ts",
  "bench/load.ts → test/load/planted-server.ts",
  "bench/load.ts → test/load/planted-process.ts",
]);
/** Cycles that exist today, as their sorted member list joined by ` ↔ `. */
const KNOWN_CYCLES = new Set<string>([]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** `import … from "./x.ts"`, `export … from`, `import "./x.ts"`, `import("./x.ts")`. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), m[1] as string));
}

function layerOf(file: string): number | "test" | null {
  const top = relative(ROOT, file).split("/")[0] ?? "";
  if (top === "test") return "test";
  const index = (LAYERS as readonly string[]).indexOf(top);
  return index >= 0 ? index : null;
}

const files = sourceFiles(ROOT);
const graph = new Map(files.map((f) => [f, importsOf(f).filter((to) => to.endsWith(".ts"))]));
const rel = (f: string) => relative(ROOT, f);

/** Tarjan's strongly connected components: every component of more than one file is a cycle. */
function cycles(): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w))
        low.set(v, Math.min(low.get(v) as number, indices.get(w) as number));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component);
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return out;
}

describe("architecture", () => {
  it("finds the tree's files and their imports", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get(join(ROOT, "analysis/fit/index.ts"))).toContain(
      join(ROOT, "analysis/fit/compute.ts"),
    );
  });

  it("has no import cycles", () => {
    const found = cycles()
      .map((c) => c.map(rel).sort().join(" ↔ "))
      .filter((c) => !KNOWN_CYCLES.has(c));
    expect(found).toEqual([]);
  });

  it("has no import from a lower layer up to a higher one", () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      const fromLayer = layerOf(from);
      if (fromLayer === "test" || fromLayer === null) continue;
      for (const to of targets) {
        const toLayer = layerOf(to);
        if (toLayer === "test" || (toLayer !== null && toLayer > fromLayer))
          upward.push(`${rel(from)} → ${rel(to)}`);
      }
    }
    expect(upward.filter((u) => !KNOWN_UPWARD.has(u))).toEqual([]);
  });

  it("would catch a cycle and an upward import", () => {
    graph.set(join(ROOT, "stats/a.ts"), [join(ROOT, "cli/b.ts")]);
    graph.set(join(ROOT, "cli/b.ts"), [join(ROOT, "stats/a.ts")]);
    try {
      expect(cycles().map((c) => c.map(rel).sort())).toContainEqual(["cli/b.ts", "stats/a.ts"]);
    } finally {
      graph.delete(join(ROOT, "stats/a.ts"));
      graph.delete(join(ROOT, "cli/b.ts"));
    }
  });
});
