/**
 * The one place analysis writes Parquet: an Arrow table in, a file out
 * (atomically). hyparquet-writer until aggregation settles on a writer; swap
 * the body, not the callers.
 */
import { type Table, Type } from "apache-arrow";
import type { BasicType } from "hyparquet-writer";
import { parquetWriteBuffer } from "hyparquet-writer";
import { writeFileAtomic } from "../../common/atomic-write.ts";

function basicType(typeId: Type): BasicType {
  switch (typeId) {
    case Type.Bool:
      return "BOOLEAN";
    case Type.Int:
      return "INT64";
    case Type.Float:
      return "DOUBLE";
    case Type.Utf8:
    case Type.Dictionary:
      return "STRING";
    default:
      throw new Error(`writeParquet: unsupported Arrow type ${Type[typeId]}`);
  }
}

export async function writeParquet(table: Table, path: string): Promise<void> {
  const columnData = table.schema.fields.map((field) => {
    const vector = table.getChild(field.name);
    const type = basicType(field.type.typeId);
    const values: unknown[] = vector ? [...vector] : [];
    const data =
      type === "INT64"
        ? values.map((v) => (v === null ? null : BigInt(v as number | bigint)))
        : values;
    return { name: field.name, data, type, nullable: field.nullable };
  });
  const buffer = parquetWriteBuffer({ columnData, createdBy: "vscale analysis" });
  await writeFileAtomic(path, new Uint8Array(buffer));
}
