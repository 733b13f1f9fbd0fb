/**
 * Reads a zod object schema of flat fields (strings, enums, numbers with
 * int/min/max checks, booleans, arrays of such numbers, each optionally
 * nullable and optional) into plain rules
 * the hand-written line decoder (flat-json-decoder.ts) checks against. The zod
 * schema stays the single definition of a valid record: the rules are derived
 * from it at start-up, and anything this reader does not understand yields
 * `null`, which sends every line through zod itself.
 */
import type { z } from "zod";

export interface FieldRule {
  name: string;
  /** `numbers`: an array of numbers, each checked against the number bounds below. */
  kind: "string" | "enum" | "number" | "boolean" | "numbers";
  nullable: boolean;
  /** The key may be missing (read as null). */
  optional: boolean;
  /** Allowed values of an enum. */
  values: ReadonlySet<string> | null;
  /** `.int()`: a safe integer. */
  safeInt: boolean;
  min: number;
  minInclusive: boolean;
  max: number;
  maxInclusive: boolean;
}

/** The parts of zod 4's internal definitions read here. */
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  element?: Schema;
  entries?: Record<string, unknown>;
  checks?: { _zod: { def: CheckDef } }[];
}
interface CheckDef {
  check: string;
  format?: string;
  value?: unknown;
  inclusive?: boolean;
  when?: unknown;
}
interface Schema {
  _zod: { def: Def };
}

function defOf(schema: unknown): Def | null {
  const def = (schema as Partial<Schema> | null)?._zod?.def;
  return def && typeof def.type === "string" ? def : null;
}

/** Number checks (int, min, max) into `rule`; false when a check is beyond these rules. */
function numberChecks(rule: FieldRule, checks: CheckDef[]): boolean {
  for (const check of checks) {
    if (check.when !== undefined) return false;
    if (check.check === "number_format" && check.format === "safeint") rule.safeInt = true;
    else if (check.check === "greater_than" && typeof check.value === "number") {
      rule.min = check.value;
      rule.minInclusive = check.inclusive === true;
    } else if (check.check === "less_than" && typeof check.value === "number") {
      rule.max = check.value;
      rule.maxInclusive = check.inclusive === true;
    } else return false;
  }
  return true;
}

function fieldRule(name: string, schema: Schema): FieldRule | null {
  let def = defOf(schema);
  let optional = false;
  let nullable = false;
  if (def?.type === "optional") {
    optional = true;
    def = defOf(def.innerType);
  }
  if (def?.type === "nullable") {
    nullable = true;
    def = defOf(def.innerType);
  }
  if (!def) return null;
  const rule: FieldRule = {
    name,
    kind: "string",
    nullable,
    optional,
    values: null,
    safeInt: false,
    min: Number.NEGATIVE_INFINITY,
    minInclusive: true,
    max: Number.POSITIVE_INFINITY,
    maxInclusive: true,
  };
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  switch (def.type) {
    case "string":
    case "boolean":
      if (checks.length > 0) return null;
      rule.kind = def.type;
      return rule;
    case "enum": {
      const values = Object.values(def.entries ?? {});
      if (checks.length > 0 || !values.every((v) => typeof v === "string")) return null;
      rule.kind = "enum";
      rule.values = new Set(values as string[]);
      return rule;
    }
    case "number":
      rule.kind = "number";
      return numberChecks(rule, checks) ? rule : null;
    case "array": {
      // Only a plain array of plain (non-null) numbers: its bounds go on the element.
      const element = defOf(def.element);
      if (checks.length > 0 || element?.type !== "number") return null;
      rule.kind = "numbers";
      return numberChecks(
        rule,
        (element.checks ?? []).map((c) => c._zod.def),
      )
        ? rule
        : null;
    }
    default:
      return null;
  }
}

/** A rule that only names a field (slots for values zod already checked). */
export function namedOnly(name: string): FieldRule {
  return {
    name,
    kind: "string",
    nullable: true,
    optional: true,
    values: null,
    safeInt: false,
    min: Number.NEGATIVE_INFINITY,
    minInclusive: true,
    max: Number.POSITIVE_INFINITY,
    maxInclusive: true,
  };
}

/** Rules for every field of `schema`, in its order; null when a field is beyond these rules. */
export function flatRecordRules(schema: z.ZodType): FieldRule[] | null {
  const def = defOf(schema);
  if (def?.type !== "object" || !def.shape || (def.checks ?? []).length > 0) return null;
  const rules: FieldRule[] = [];
  for (const [name, field] of Object.entries(def.shape)) {
    const rule = fieldRule(name, field);
    if (!rule) return null;
    rules.push(rule);
  }
  return rules;
}
