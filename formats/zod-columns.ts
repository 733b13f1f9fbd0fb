/**
 * Column definitions read off a zod object schema, for a file whose rows are
 * validated by that schema: the schema is the one definition, and the CSV
 * header (analysis/aggregate/table-csv.ts) follows from it. Each field's
 * `.describe()` is its documentation; `z.int()` is int64, `z.number()`
 * float64, `z.boolean()` bool, strings and enums string; `.nullable()` makes
 * the column nullable.
 */
import type { z } from "zod";
import type { ColumnDef, ColumnType } from "./agg-tables.ts";

interface Introspected {
  def: { type: string; innerType?: Introspected };
  format?: string | null;
  description?: string;
}

function columnType(field: Introspected, name: string): ColumnType {
  switch (field.def.type) {
    case "number":
      return field.format === "safeint" || field.format === "int32" ? "int64" : "float64";
    case "boolean":
      return "bool";
    case "string":
    case "enum":
      return "string";
    default:
      throw new Error(`column ${name}: no column type for zod type ${field.def.type}`);
  }
}

export function zodColumns(schema: z.ZodObject): ColumnDef[] {
  return Object.entries(schema.shape).map(([name, raw]) => {
    const field = raw as unknown as Introspected;
    const nullable = field.def.type === "nullable";
    const inner = nullable ? (field.def.innerType as Introspected) : field;
    return {
      name,
      type: columnType(inner, name),
      nullable,
      doc: field.description ?? inner.description ?? "",
    };
  });
}
