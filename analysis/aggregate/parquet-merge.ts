/**
 * Parquet files of one schema joined into one file without decoding a page:
 * each column chunk's bytes are copied as written and only the footer is
 * rewritten (its offsets moved, its row groups listed one after another).
 * `requests.parquet` is made this way from the experiments' staged files, so
 * the records are compressed once, by DuckDB, while the figures are computed
 * beside it; a `COPY` of every staged file to one file cost a second read and
 * zstd write of every record (bench/aggregate.ts: 1.4–2.4 CPU-s per 1M).
 *
 * The footer is Thrift's compact protocol (parquet-format's parquet.thrift),
 * decoded into a generic field tree so that fields this module does not know
 * pass through unchanged. Written by hand: no Node library joins Parquet
 * files without re-encoding them (DuckDB, parquet-wasm and hyparquet-writer
 * all decode and write every value), and the Thrift libraries need code
 * generated from parquet.thrift whose structs would drop fields added to the
 * format after it; the compact protocol is a page of rules. Page indexes (column and offset indexes) are left
 * out: they hold absolute offsets inside their own encoded bodies, and
 * DuckDB reads the file without them. Bloom filters are copied with their chunk.
 */
import { type FileHandle, open } from "node:fs/promises";

const T = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

type Value = number | bigint | boolean | Uint8Array | Struct | List | ThriftMap;
/** A struct's fields in the order they were read: id → type and value. */
type Struct = Map<number, { type: number; value: Value }>;
interface List {
  kind: "list";
  elemType: number;
  items: Value[];
}
interface ThriftMap {
  kind: "map";
  keyType: number;
  valueType: number;
  entries: [Value, Value][];
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error("parquet footer: truncated");
    return this.buf[this.pos++]!;
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  value(type: number): Value {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        // Only inside lists and maps: a byte of its own (in a struct the type says it).
        return this.byte() === T.TRUE;
      case T.BYTE:
        return (this.byte() << 24) >> 24;
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        const bytes = this.buf.slice(this.pos, this.pos + 8);
        this.pos += 8;
        return bytes;
      }
      case T.BINARY: {
        const length = Number(this.varint());
        const bytes = this.buf.slice(this.pos, this.pos + length);
        this.pos += length;
        return bytes;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const elemType = header & 0x0f;
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        const items: Value[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elemType));
        return { kind: "list", elemType, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        const types = size > 0 ? this.byte() : 0;
        const keyType = types >> 4;
        const valueType = types & 0x0f;
        const entries: [Value, Value][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { kind: "map", keyType, valueType, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new Error(`parquet footer: unknown thrift type ${type}`);
    }
  }

  struct(): Struct {
    const fields: Struct = new Map();
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return fields;
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      const value = type === T.TRUE || type === T.FALSE ? type === T.TRUE : this.value(type);
      fields.set(id, { type, value });
    }
  }
}

class Writer {
  private chunks: number[] = [];

  private varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
  }

  private zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }

  private bytes(b: Uint8Array): void {
    for (const x of b) this.chunks.push(x);
  }

  value(type: number, value: Value): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        // Inside lists and maps: a byte of its own, 1 true and 2 false (as Thrift's own writers).
        this.chunks.push(value === true ? T.TRUE : T.FALSE);
        return;
      case T.BYTE:
        this.chunks.push(Number(value) & 0xff);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(value as number));
        return;
      case T.I64:
        this.zigzag(value as bigint);
        return;
      case T.DOUBLE:
        this.bytes(value as Uint8Array);
        return;
      case T.BINARY:
        this.varint(BigInt((value as Uint8Array).length));
        this.bytes(value as Uint8Array);
        return;
      case T.LIST:
      case T.SET: {
        const list = value as List;
        const size = list.items.length;
        if (size < 15) this.chunks.push((size << 4) | list.elemType);
        else {
          this.chunks.push(0xf0 | list.elemType);
          this.varint(BigInt(size));
        }
        for (const item of list.items) this.value(list.elemType, item);
        return;
      }
      case T.MAP: {
        const map = value as ThriftMap;
        this.varint(BigInt(map.entries.length));
        if (map.entries.length > 0) this.chunks.push((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.value(map.keyType, k);
          this.value(map.valueType, v);
        }
        return;
      }
      case T.STRUCT:
        this.struct(value as Struct);
        return;
      default:
        throw new Error(`parquet footer: unknown thrift type ${type}`);
    }
  }

  struct(fields: Struct): void {
    let last = 0;
    // The compact protocol writes ids as deltas: ascending order keeps them short.
    for (const id of [...fields.keys()].sort((a, b) => a - b)) {
      const { type, value } = fields.get(id)!;
      const wireType = type === T.TRUE || type === T.FALSE ? (value ? T.TRUE : T.FALSE) : type;
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.chunks.push((delta << 4) | wireType);
      else {
        this.chunks.push(wireType);
        this.zigzag(BigInt(id));
      }
      last = id;
      if (wireType !== T.TRUE && wireType !== T.FALSE) this.value(type, value);
    }
    this.chunks.push(0);
  }

  result(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

// Field ids of parquet.thrift.
const FILE = { schema: 2, numRows: 3, rowGroups: 4, keyValues: 5, columnOrders: 7 } as const;
const SCHEMA = { name: 4, numChildren: 5 } as const;
const ROW_GROUP = {
  columns: 1,
  totalByteSize: 2,
  fileOffset: 5,
  totalCompressedSize: 6,
  ordinal: 7,
} as const;
const CHUNK = {
  fileOffset: 2,
  metaData: 3,
  offsetIndexOffset: 4,
  offsetIndexLength: 5,
  columnIndexOffset: 6,
  columnIndexLength: 7,
} as const;
const META = {
  path: 3,
  totalUncompressedSize: 6,
  totalCompressedSize: 7,
  dataPageOffset: 9,
  indexPageOffset: 10,
  dictionaryPageOffset: 11,
  bloomFilterOffset: 14,
  bloomFilterLength: 15,
} as const;

function field<V extends Value>(s: Struct, id: number, what: string): V {
  const f = s.get(id);
  if (f === undefined) throw new Error(`parquet footer: no ${what}`);
  return f.value as V;
}

function optionalI64(s: Struct, id: number): bigint | null {
  const f = s.get(id);
  return f === undefined ? null : (f.value as bigint);
}

const MAGIC = new TextEncoder().encode("PAR1");
const text = new TextDecoder();

async function readFooter(file: FileHandle, path: string): Promise<Struct> {
  const { size } = await file.stat();
  const tail = Buffer.alloc(8);
  await file.read(tail, 0, 8, size - 8);
  if (tail.subarray(4).toString("latin1") !== "PAR1") throw new Error(`${path}: not Parquet`);
  const length = tail.readUInt32LE(0);
  const footer = Buffer.alloc(length);
  await file.read(footer, 0, length, size - 8 - length);
  return new Reader(footer).struct();
}

/**
 * The schema with top-level column `name` (and its children) left out, and
 * for each leaf column of the input whether it is kept (column_orders has one
 * entry per leaf).
 */
function schemaWithout(schema: List, name: string): { schema: List; keptLeaves: boolean[] } {
  const items = schema.items as Struct[];
  const root = items[0]!;
  const out: Struct[] = [root];
  let rootChildren = 0;
  const keptLeaves: boolean[] = [];
  // Depth-first: each element is followed by its num_children subtrees.
  let i = 1;
  while (i < items.length) {
    const start = i;
    let pending = 1;
    let leaves = 0;
    while (pending > 0) {
      const children = items[i]!.get(SCHEMA.numChildren)?.value;
      if (typeof children !== "number" || children === 0) leaves++;
      pending += (typeof children === "number" ? children : 0) - 1;
      i++;
    }
    const top = text.decode(field<Uint8Array>(items[start]!, SCHEMA.name, "schema name"));
    for (let l = 0; l < leaves; l++) keptLeaves.push(top !== name);
    if (top === name) continue;
    out.push(...items.slice(start, i));
    rootChildren++;
  }
  const newRoot: Struct = new Map(root);
  newRoot.set(SCHEMA.numChildren, { type: T.I32, value: rootChildren });
  out[0] = newRoot;
  return { schema: { kind: "list", elemType: schema.elemType, items: out }, keptLeaves };
}

function schemaKey(schema: List): string {
  const w = new Writer();
  w.value(T.LIST, schema);
  return Buffer.from(w.result()).toString("base64");
}

export interface JoinOptions {
  /** Top-level columns left out. */
  drop?: readonly string[];
  /** The footer's key/value metadata; the first input's when absent. */
  metadata?: Record<string, string>;
}

function keyValues(metadata: Record<string, string>): List {
  const utf8 = new TextEncoder();
  return {
    kind: "list",
    elemType: T.STRUCT,
    items: Object.entries(metadata).map(
      ([k, v]): Struct =>
        new Map([
          [1, { type: T.BINARY, value: utf8.encode(k) }],
          [2, { type: T.BINARY, value: utf8.encode(v) }],
        ]),
    ),
  };
}

/**
 * `out` written as the rows of the files added, in the order added: `add()`
 * copies a file's column chunks at once (so the copying can run while the
 * next files are still being written), `finish()` writes the footer. Every
 * file must have the same columns; the footer's other fields (created_by,
 * column orders) are the first file's.
 */
export class ParquetJoin {
  private position = BigInt(MAGIC.length);
  private totalRows = 0n;
  private schema: List | null = null;
  private firstPath = "";
  private firstMeta: Struct | null = null;
  private readonly rowGroups: Struct[] = [];
  private readonly drop: readonly string[];

  private constructor(
    private readonly target: FileHandle,
    private readonly options: JoinOptions,
  ) {
    this.drop = options.drop ?? [];
  }

  static async create(out: string, options: JoinOptions = {}): Promise<ParquetJoin> {
    const target = await open(out, "w");
    await target.write(MAGIC);
    return new ParquetJoin(target, options);
  }

  /** True until a file is added. */
  get empty(): boolean {
    return this.schema === null;
  }

  async add(path: string): Promise<void> {
    const source = await open(path, "r");
    try {
      await this.copy(source, path);
    } finally {
      await source.close();
    }
  }

  private async copy(source: FileHandle, path: string): Promise<void> {
    const meta = await readFooter(source, path);
    let schema = field<List>(meta, FILE.schema, "schema");
    let orders = meta.get(FILE.columnOrders)?.value as List | undefined;
    for (const name of this.drop) {
      const without = schemaWithout(schema, name);
      schema = without.schema;
      if (orders !== undefined)
        orders = { ...orders, items: orders.items.filter((_, i) => without.keptLeaves[i]) };
    }
    if (this.schema === null) {
      this.schema = schema;
      this.firstPath = path;
      this.firstMeta = new Map(meta);
      if (orders !== undefined)
        this.firstMeta.set(FILE.columnOrders, { type: T.LIST, value: orders });
    } else if (schemaKey(this.schema) !== schemaKey(schema)) {
      throw new Error(`${path}: schema differs from ${this.firstPath}'s`);
    }
    this.totalRows += field<bigint>(meta, FILE.numRows, "num_rows");
    for (const group of field<List>(meta, FILE.rowGroups, "row groups").items as Struct[]) {
      const columns: Struct[] = [];
      let groupStart: bigint | null = null;
      // The group's sizes are its kept chunks' (a dropped column's bytes are not in the file).
      let uncompressed = 0n;
      let compressed = 0n;
      for (const chunk of field<List>(group, ROW_GROUP.columns, "columns").items as Struct[]) {
        const cm = field<Struct>(chunk, CHUNK.metaData, "column metadata");
        const top = text.decode(field<List>(cm, META.path, "path").items[0] as Uint8Array);
        if (this.drop.includes(top)) continue;
        const dict = optionalI64(cm, META.dictionaryPageOffset);
        const dataPage = field<bigint>(cm, META.dataPageOffset, "data page offset");
        const start = dict !== null && dict > 0n && dict < dataPage ? dict : dataPage;
        const length = field<bigint>(cm, META.totalCompressedSize, "compressed size");
        compressed += length;
        uncompressed += field<bigint>(cm, META.totalUncompressedSize, "uncompressed size");
        const shift = this.position - start;
        groupStart ??= this.position;
        await this.copyBytes(source, start, length);
        const newMeta: Struct = new Map(cm);
        for (const id of [META.dataPageOffset, META.dictionaryPageOffset, META.indexPageOffset]) {
          const v = optionalI64(cm, id);
          if (v !== null) newMeta.set(id, { type: T.I64, value: v + shift });
        }
        const bloom = optionalI64(cm, META.bloomFilterOffset);
        const bloomLength = cm.get(META.bloomFilterLength)?.value;
        newMeta.delete(META.bloomFilterOffset);
        newMeta.delete(META.bloomFilterLength);
        if (bloom !== null && typeof bloomLength === "number") {
          newMeta.set(META.bloomFilterOffset, { type: T.I64, value: this.position });
          newMeta.set(META.bloomFilterLength, { type: T.I32, value: bloomLength });
          await this.copyBytes(source, bloom, BigInt(bloomLength));
        }
        const newChunk: Struct = new Map(chunk);
        newChunk.set(CHUNK.metaData, { type: T.STRUCT, value: newMeta });
        const fileOffset = optionalI64(chunk, CHUNK.fileOffset);
        if (fileOffset !== null)
          newChunk.set(CHUNK.fileOffset, { type: T.I64, value: fileOffset + shift });
        for (const id of [
          CHUNK.offsetIndexOffset,
          CHUNK.offsetIndexLength,
          CHUNK.columnIndexOffset,
          CHUNK.columnIndexLength,
        ])
          newChunk.delete(id);
        columns.push(newChunk);
      }
      const newGroup: Struct = new Map(group);
      newGroup.set(ROW_GROUP.columns, {
        type: T.LIST,
        value: { kind: "list", elemType: T.STRUCT, items: columns },
      });
      newGroup.set(ROW_GROUP.totalByteSize, { type: T.I64, value: uncompressed });
      if (newGroup.has(ROW_GROUP.totalCompressedSize))
        newGroup.set(ROW_GROUP.totalCompressedSize, { type: T.I64, value: compressed });
      if (newGroup.has(ROW_GROUP.fileOffset) && groupStart !== null)
        newGroup.set(ROW_GROUP.fileOffset, { type: T.I64, value: groupStart });
      if (newGroup.has(ROW_GROUP.ordinal))
        newGroup.set(ROW_GROUP.ordinal, { type: T.I16, value: this.rowGroups.length });
      this.rowGroups.push(newGroup);
    }
  }

  private async copyBytes(source: FileHandle, start: bigint, length: bigint): Promise<void> {
    const bytes = Buffer.allocUnsafe(Number(length));
    const { bytesRead } = await source.read(bytes, 0, bytes.length, Number(start));
    if (bytesRead !== bytes.length) throw new Error("parquet: column chunk past the end of file");
    await this.target.write(bytes);
    this.position += length;
  }

  /** Writes the footer and closes the file; at least one file must have been added. */
  async finish(): Promise<void> {
    try {
      if (this.firstMeta === null || this.schema === null)
        throw new Error("ParquetJoin: no file added");
      const meta: Struct = new Map(this.firstMeta);
      meta.set(FILE.schema, { type: T.LIST, value: this.schema });
      meta.set(FILE.numRows, { type: T.I64, value: this.totalRows });
      if (this.options.metadata !== undefined)
        meta.set(FILE.keyValues, { type: T.LIST, value: keyValues(this.options.metadata) });
      meta.set(FILE.rowGroups, {
        type: T.LIST,
        value: { kind: "list", elemType: T.STRUCT, items: this.rowGroups },
      });
      const w = new Writer();
      w.struct(meta);
      const footer = w.result();
      const length = Buffer.alloc(4);
      length.writeUInt32LE(footer.length);
      await this.target.write(Buffer.concat([footer, length, MAGIC]));
    } finally {
      await this.target.close();
    }
  }

  /** Closes the file unfinished (the caller removes it). */
  async abandon(): Promise<void> {
    await this.target.close();
  }
}
