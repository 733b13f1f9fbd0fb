/**
 * Decodes one NDJSON line of a flat record straight from the file's bytes,
 * without `JSON.parse` or a per-line object: values land in reusable per-field
 * slots, checked against rules derived from the record's zod schema
 * (flat-record-plan.ts). `decode` accepts a line only when `JSON.parse` plus
 * the zod schema would accept it with the same values; for anything else
 * (escapes, nesting, unknown or repeated keys, a value zod would reject, a
 * last line without its newline) it returns false and the caller takes the
 * JSON.parse + zod path, which also words the warning. An array of numbers
 * (`itl_gaps_ms`) lands in a reusable per-field Float64Array; a missing
 * optional key reads as absent.
 *
 * Speed: the line's newline is the sentinel that ends every scan (it is no
 * token and no string byte), so the loops carry no bounds checks; keys are
 * matched against the next key in schema order first; a string whose bytes
 * equal the field's previous value reuses that string (ids, enums and names
 * repeat line after line). Numbers are read exactly: a mantissa below 2^53
 * with at most 22 decimals is one exact division (Clinger's fast path,
 * correctly rounded like JSON.parse); any other number goes to `Number()`.
 */
import type { FieldRule } from "./flat-record-plan.ts";

export const NULL = 0;
export const NUMBER = 1;
export const STRING = 2;
export const TRUE = 3;
export const FALSE = 4;
export const LIST = 5;
/** An optional key the line did not have. */
export const ABSENT = 6;
export type SlotKind =
  | typeof NULL
  | typeof NUMBER
  | typeof STRING
  | typeof TRUE
  | typeof FALSE
  | typeof LIST
  | typeof ABSENT;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const OPEN_LIST = 0x5b;
const CLOSE_LIST = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const MAX_EXACT = 2 ** 53;
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/**
 * Node's own latin1/utf8 slicers (what `toString` dispatches to, minus its
 * argument handling, which cost as much as the copy for short values).
 */
interface Slicers {
  latin1Slice?(start: number, end: number): string;
  utf8Slice?(start: number, end: number): string;
}
const PROTO = Buffer.prototype as Slicers;
const latin1: (buf: Buffer, s: number, e: number) => string = PROTO.latin1Slice
  ? (buf, s, e) => (buf as Slicers).latin1Slice!(s, e)
  : (buf, s, e) => buf.toString("latin1", s, e);
const utf8: (buf: Buffer, s: number, e: number) => string = PROTO.utf8Slice
  ? (buf, s, e) => (buf as Slicers).utf8Slice!(s, e)
  : (buf, s, e) => buf.toString("utf8", s, e);

/** Longest string value remembered for reuse. */
const CACHE_BYTES = 64;

export class FlatJsonDecoder {
  /** Kind of each field's value in the last accepted line. */
  readonly kinds: Uint8Array;
  readonly numbers: Float64Array;
  readonly strings: string[];
  private readonly keys: Buffer[];
  private readonly seen: Uint32Array;
  private stamp = 0;
  /** Per field: the bytes of its last string value (`CACHE_BYTES` each) and their length (-1: none). */
  private readonly lastBytes: Uint8Array;
  private readonly lastLength: Int32Array;
  /** Per list field: its values (grown as needed) and how many the last line had. */
  private readonly lists: Float64Array[];
  private readonly listLengths: Int32Array;

  constructor(readonly rules: readonly FieldRule[]) {
    const n = rules.length;
    this.kinds = new Uint8Array(n);
    this.numbers = new Float64Array(n);
    this.strings = new Array<string>(n).fill("");
    this.keys = rules.map((r) => Buffer.from(r.name, "latin1"));
    this.seen = new Uint32Array(n);
    this.lastBytes = new Uint8Array(n * CACHE_BYTES);
    this.lastLength = new Int32Array(n).fill(-1);
    this.lists = rules.map(() => new Float64Array(0));
    this.listLengths = new Int32Array(n);
  }

  fieldIndex(name: string): number {
    return this.rules.findIndex((r) => r.name === name);
  }

  /** The value of field `i` from the last accepted line (a list as a fresh array). */
  value(i: number): number | string | boolean | number[] | null | undefined {
    switch (this.kinds[i]) {
      case LIST:
        return Array.from(this.list(i)!);
      case ABSENT:
        return undefined;
      case NUMBER:
        return this.numbers[i]!;
      case STRING:
        return this.strings[i]!;
      case TRUE:
        return true;
      case FALSE:
        return false;
      default:
        return null;
    }
  }

  num(i: number): number | null {
    return this.kinds[i] === NUMBER ? this.numbers[i]! : null;
  }

  str(i: number): string | null {
    return this.kinds[i] === STRING ? this.strings[i]! : null;
  }

  bool(i: number): boolean {
    return this.kinds[i] === TRUE;
  }

  /** A view of list field `i` (valid until the next line), or null. */
  list(i: number): Float64Array | null {
    return this.kinds[i] === LIST ? this.lists[i]!.subarray(0, this.listLengths[i]!) : null;
  }

  private pushListValue(field: number, length: number, v: number): void {
    let values = this.lists[field]!;
    if (length === values.length) {
      const grown = new Float64Array(Math.max(64, values.length * 2));
      grown.set(values);
      this.lists[field] = values = grown;
    }
    values[length] = v;
  }

  /** Fills the slots from an already validated record (the zod path's output). */
  load(record: Record<string, unknown>): void {
    this.lastLength.fill(-1); // the reused strings no longer match their slots
    for (let i = 0; i < this.rules.length; i++) {
      const v = record[this.rules[i]!.name];
      if (typeof v === "number") {
        this.kinds[i] = NUMBER;
        this.numbers[i] = v;
      } else if (typeof v === "string") {
        this.kinds[i] = STRING;
        this.strings[i] = v;
      } else if (typeof v === "boolean") this.kinds[i] = v ? TRUE : FALSE;
      else if (Array.isArray(v)) {
        for (const [k, x] of v.entries()) this.pushListValue(i, k, x as number);
        this.listLengths[i] = v.length;
        this.kinds[i] = LIST;
      } else this.kinds[i] = v === undefined ? ABSENT : NULL;
    }
  }

  /**
   * Decodes `buf[start, end)`, where `buf[end]` must be the line's newline;
   * true when the line is a valid record (slots filled).
   */
  decode(buf: Buffer, start: number, end: number): boolean {
    if (end >= buf.length || buf[end] !== NEWLINE) return false;
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const { rules, keys, seen, stamp } = this;
    const n = rules.length;
    let found = 0;
    let hint = 0;
    let p = start;
    let c = buf[p]!;
    while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
    if (c !== OPEN) return false;
    for (;;) {
      c = buf[++p]!;
      while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
      if (c !== QUOTE) return false;
      p++;
      let field = -1;
      if (hint < n) {
        const key = keys[hint]!;
        const length = key.length;
        let i = 0;
        while (i < length && buf[p + i] === key[i]) i++;
        if (i === length && buf[p + length] === QUOTE) {
          field = hint;
          p += length;
        }
      }
      if (field < 0) {
        const keyStart = p;
        c = buf[p]!;
        while (c !== QUOTE) {
          if (c === BACKSLASH || c < 0x20) return false;
          c = buf[++p]!;
        }
        field = this.lookup(buf, keyStart, p);
        if (field < 0) return false;
      }
      if (seen[field] === stamp) return false;
      seen[field] = stamp;
      found++;
      hint = field + 1;
      c = buf[++p]!;
      while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
      if (c !== COLON) return false;
      c = buf[++p]!;
      while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
      const rule = rules[field]!;
      if (c === QUOTE) {
        if (rule.kind !== "string" && rule.kind !== "enum") return false;
        const s = ++p;
        let bits = 0;
        c = buf[p]!;
        while (c !== QUOTE) {
          if (c === BACKSLASH || c < 0x20) return false;
          bits |= c;
          c = buf[++p]!;
        }
        if (!this.reuseString(buf, s, p, field)) {
          const text = bits < 0x80 ? latin1(buf, s, p) : utf8(buf, s, p);
          if (rule.kind === "enum" && !rule.values!.has(text)) return false;
          this.remember(buf, s, p, field, text);
        }
        this.kinds[field] = STRING;
        p++;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        if (rule.kind !== "number") return false;
        p = this.number(buf, p, field);
        if (p < 0 || !inBounds(rule, this.numbers[field]!)) return false;
        this.kinds[field] = NUMBER;
      } else if (c === OPEN_LIST) {
        if (rule.kind !== "numbers") return false;
        p = this.numberList(buf, p, field, rule);
        if (p < 0) return false;
        this.kinds[field] = LIST;
      } else if (c === 0x74 /* t */) {
        if (rule.kind !== "boolean" || !literal(buf, p, "true")) return false;
        this.kinds[field] = TRUE;
        p += 4;
      } else if (c === 0x66 /* f */) {
        if (rule.kind !== "boolean" || !literal(buf, p, "false")) return false;
        this.kinds[field] = FALSE;
        p += 5;
      } else if (c === 0x6e /* n */) {
        if (!rule.nullable || !literal(buf, p, "null")) return false;
        this.kinds[field] = NULL;
        p += 4;
      } else return false;
      c = buf[p]!;
      while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
      if (c === COMMA) continue;
      if (c !== CLOSE) return false;
      break;
    }
    c = buf[++p]!;
    while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
    if (p !== end) return false;
    if (found === n) return true;
    for (let i = 0; i < n; i++) {
      if (seen[i] === stamp) continue;
      if (!rules[i]!.optional) return false;
      this.kinds[i] = ABSENT;
    }
    return true;
  }

  /** Reads `[n, n, …]` at `p` (the `[`) into list slot `field`; the position after it, or -1. */
  private numberList(buf: Buffer, p: number, field: number, rule: FieldRule): number {
    let length = 0;
    let c = buf[++p]!;
    while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
    if (c !== CLOSE_LIST) {
      for (;;) {
        if (c !== MINUS && !(c >= ZERO && c <= NINE)) return -1;
        p = this.number(buf, p, field);
        if (p < 0) return -1;
        const v = this.numbers[field]!;
        if (!inBounds(rule, v)) return -1;
        this.pushListValue(field, length++, v);
        c = buf[p]!;
        while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
        if (c === CLOSE_LIST) break;
        if (c !== COMMA) return -1;
        c = buf[++p]!;
        while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
      }
    }
    this.listLengths[field] = length;
    return p + 1;
  }

  /** True when `buf[s, e)` holds the same bytes as the field's last string (slot left as is). */
  private reuseString(buf: Buffer, s: number, e: number, field: number): boolean {
    const length = e - s;
    if (length !== this.lastLength[field]) return false;
    const last = this.lastBytes;
    const base = field * CACHE_BYTES;
    for (let i = 0; i < length; i++) if (buf[s + i] !== last[base + i]) return false;
    return true;
  }

  private remember(buf: Buffer, s: number, e: number, field: number, text: string): void {
    this.strings[field] = text;
    const length = e - s;
    if (length > CACHE_BYTES) {
      this.lastLength[field] = -1;
      return;
    }
    const last = this.lastBytes;
    const base = field * CACHE_BYTES;
    for (let i = 0; i < length; i++) last[base + i] = buf[s + i]!;
    this.lastLength[field] = length;
  }

  private lookup(buf: Buffer, s: number, e: number): number {
    for (let i = 0; i < this.keys.length; i++) if (sameBytes(buf, s, e, this.keys[i]!)) return i;
    return -1;
  }

  /** Reads a JSON number at `p` into slot `field`; the position after it, or -1. */
  private number(buf: Buffer, p: number, field: number): number {
    const first = p;
    let negative = false;
    let c = buf[p]!;
    if (c === MINUS) {
      negative = true;
      c = buf[++p]!;
    }
    let mantissa = 0;
    if (c === ZERO) {
      c = buf[++p]!;
      if (c >= ZERO && c <= NINE) return -1; // a leading zero is not JSON
    } else if (c > ZERO && c <= NINE) {
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        c = buf[++p]!;
      } while (c >= ZERO && c <= NINE);
    } else return -1;
    let decimals = 0;
    if (c === DOT) {
      c = buf[++p]!;
      if (!(c >= ZERO && c <= NINE)) return -1;
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        decimals++;
        c = buf[++p]!;
      } while (c >= ZERO && c <= NINE);
    }
    let exponent = false;
    if (c === 0x65 || c === 0x45 /* e E */) {
      exponent = true;
      c = buf[++p]!;
      if (c === PLUS || c === MINUS) c = buf[++p]!;
      if (!(c >= ZERO && c <= NINE)) return -1;
      do c = buf[++p]!;
      while (c >= ZERO && c <= NINE);
    }
    let value: number;
    if (!exponent && mantissa < MAX_EXACT && decimals <= 22) {
      value = decimals === 0 ? mantissa : mantissa / POW10[decimals]!;
      if (negative) value = -value;
    } else value = Number(latin1(buf, first, p));
    this.numbers[field] = value;
    return p;
  }
}

function inBounds(rule: FieldRule, v: number): boolean {
  if (rule.safeInt && !Number.isSafeInteger(v)) return false;
  if (rule.minInclusive ? v < rule.min : v <= rule.min) return false;
  return rule.maxInclusive ? v <= rule.max : v < rule.max;
}

function sameBytes(buf: Buffer, s: number, e: number, key: Buffer): boolean {
  if (e - s !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[s + i] !== key[i]) return false;
  return true;
}

function literal(buf: Buffer, p: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (buf[p + i] !== word.charCodeAt(i)) return false;
  return true;
}
