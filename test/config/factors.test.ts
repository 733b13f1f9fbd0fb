/**
 * The factors table (config/factors.ts) against the parts that must agree with
 * it: the simulator's own flag parser (every server factor's flag must be one
 * `vscale sim serve` understands and maps to an option), the matrix schema and
 * the summary table's columns.
 */
import { describe, expect, it } from "vitest";
import {
  FACTOR_COLUMN_TYPES,
  FACTOR_NAMES,
  FACTOR_VALUE,
  FACTORS,
  type FactorName,
  FactorsSchema,
  ID_CODES,
  LOAD_FACTORS,
  SERVER_FLAGS,
} from "../../config/factors.ts";
import { SUMMARY_TABLE } from "../../formats/agg-tables.ts";
import { parseServeArgs } from "../../sim/cli.ts";

/** A value each factor's schema accepts, chosen from its column type. */
function sample(name: FactorName): number | boolean {
  const value = { int64: 2, float64: 0.5, bool: false, dict: 0 }[FACTORS[name].column];
  expect(FACTOR_VALUE[name].safeParse(value).success).toBe(true);
  return value;
}

const serverFlags = Object.entries(SERVER_FLAGS) as [FactorName, string][];

describe("the factors table", () => {
  it("has a vLLM flag for every server factor but gpus, and none for load factors", () => {
    for (const name of FACTOR_NAMES) {
      const row = FACTORS[name];
      if (row.role === "load") expect(row.flag, name).toBeNull();
      else if (name !== "gpus") expect(row.flag, name).toMatch(/^--[a-z][a-z-]+$/);
    }
    expect(LOAD_FACTORS).toEqual([
      "users",
      "rate",
      "burstiness",
      "prompt_set",
      "max_tokens",
      "scenario",
      "batch_size",
      "prompt_tokens",
      "sweep_step",
    ]);
    expect(serverFlags.map(([n]) => n)).not.toContain("gpus");
  });

  it.each(serverFlags)("%s → %s is a flag the simulator parses into an option", (name, flag) => {
    const value = sample(name);
    // The simulator's own parser, as `vscale sim serve` runs it: an unknown flag is an error, and
    // no warning may name the flag (vLLM's own notes, e.g. on disabling chunked prefill, may stand).
    const argv =
      typeof value === "boolean"
        ? ["tiny", `--no-${flag.slice(2)}`]
        : ["tiny", flag, String(value)];
    const parsed = parseServeArgs(argv);
    expect(parsed.warnings.filter((w) => w.includes(flag.slice(2)))).toEqual([]);
    const set = Object.entries(parsed.options).filter(([key]) => key !== "model");
    expect(set).toEqual([[expect.any(String), value]]);
    if (typeof value === "boolean") {
      const on = parseServeArgs(["tiny", flag]);
      expect(on.warnings.filter((w) => w.includes(flag.slice(2)))).toEqual([]);
      expect(Object.values(on.options)).toContain(true);
    }
  });

  it("derives the matrix schema: one optional key per factor, a value or a list", () => {
    expect(Object.keys(FactorsSchema.shape).sort()).toEqual([...FACTOR_NAMES].sort());
    for (const name of FACTOR_NAMES) {
      const strings: Partial<Record<FactorName, string>> = {
        prompt_set: "short",
        scenario: "decode-only",
      };
      const value = strings[name] ?? sample(name);
      expect(FactorsSchema.safeParse({ [name]: value }).success, name).toBe(true);
      expect(FactorsSchema.safeParse({ [name]: [value, value] }).success, name).toBe(true);
      expect(FactorsSchema.safeParse({ [name]: [] }).success, name).toBe(false);
    }
  });

  it("gives each factor a summary column of its type, in table order", () => {
    const columns = SUMMARY_TABLE.columns.filter((c) =>
      (FACTOR_NAMES as string[]).includes(c.name),
    );
    expect(columns.map((c) => c.name)).toEqual(FACTOR_NAMES);
    for (const c of columns) expect(c.type).toBe(FACTOR_COLUMN_TYPES[c.name as FactorName]);
    // Whole-number columns refuse fractions, so an int64 column never truncates a value.
    for (const name of FACTOR_NAMES.filter((n) => FACTORS[n].column === "int64")) {
      expect(FACTOR_VALUE[name].safeParse(1.5).success, name).toBe(false);
    }
  });

  it("codes ids: prefix and value, booleans as 1/0, prompt sets bare", () => {
    expect(ID_CODES.max_num_seqs(64)).toBe("mns64");
    expect(ID_CODES.enable_chunked_prefill(false)).toBe("cp0");
    expect(ID_CODES.prompt_set("medium")).toBe("medium");
    const codes = FACTOR_NAMES.map((n) => FACTORS[n].code).filter((c) => c !== "");
    expect(new Set(codes).size).toBe(codes.length);
  });
});
