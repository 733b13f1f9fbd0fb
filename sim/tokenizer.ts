/**
 * A deterministic, invertible pseudo-tokenizer whose ids stay inside a real
 * model's vocabulary (29,059 ids; Llama 3 has 128,256, the H200 grid's model
 * 32,000), as vLLM's own tokenizer never yields an id the model lacks. Text is
 * pre-split into words (an optional leading space plus a run of letters,
 * digits or punctuation); a word is cut into pieces: three characters when
 * all three are a space or a lowercase letter (27³ pieces), else two or one
 * printable ASCII characters (95² + 95); non-ASCII characters become one
 * token per UTF-8 byte. Roughly 3 characters per token on English prose,
 * like a real BPE vocabulary.
 *
 * The words the simulator generates (`GENERATED_WORDS`) are each exactly one
 * token and start with a space, so re-tokenizing generated text yields exactly
 * as many tokens as were streamed: `usage` agrees with `/tokenize`.
 */

const ASCII_FIRST = 32; // ' '
const ASCII_COUNT = 95; // ' ' .. '~'
const TRIPLE_ALPHABET = " abcdefghijklmnopqrstuvwxyz";
const TRIPLE_COUNT = TRIPLE_ALPHABET.length;
/** Ids 0..255 are raw UTF-8 bytes, then 1- and 2-character ASCII pieces, then triples. */
const BYTE_IDS = 256;
const PAIR_FIRST = BYTE_IDS + ASCII_COUNT;
const TRIPLE_FIRST = PAIR_FIRST + ASCII_COUNT ** 2;
const MAX_ID = TRIPLE_FIRST + TRIPLE_COUNT ** 3;
const WORD_RE = / ?[A-Za-z]+| ?[0-9]+| ?[!-/:-@[-`{-~]+|\s+|[^\x20-\x7e]+/g;

const ASCII_RE = /^[\x20-\x7e]+$/;
const TRIPLE_RE = /^[ a-z]{3}$/;

const ascii = (c: string) => c.charCodeAt(0) - ASCII_FIRST;

function pieceId(piece: string): number {
  if (piece.length === 3) {
    let id = 0;
    for (const c of piece) id = id * TRIPLE_COUNT + TRIPLE_ALPHABET.indexOf(c);
    return TRIPLE_FIRST + id;
  }
  if (piece.length === 2)
    return PAIR_FIRST + ascii(piece[0] as string) * ASCII_COUNT + ascii(piece[1] as string);
  return BYTE_IDS + ascii(piece);
}

function pieceText(id: number): string {
  const char = (code: number) => String.fromCharCode(ASCII_FIRST + code);
  if (id >= TRIPLE_FIRST) {
    let rest = id - TRIPLE_FIRST;
    let text = "";
    for (let i = 0; i < 3; i++) {
      text = (TRIPLE_ALPHABET[rest % TRIPLE_COUNT] as string) + text;
      rest = Math.floor(rest / TRIPLE_COUNT);
    }
    return text;
  }
  if (id >= PAIR_FIRST) {
    const rest = id - PAIR_FIRST;
    return char(Math.floor(rest / ASCII_COUNT)) + char(rest % ASCII_COUNT);
  }
  return char(id - BYTE_IDS);
}

/** Token ids of `text`. */
export function tokenize(text: string): number[] {
  const ids: number[] = [];
  for (const [word] of text.matchAll(WORD_RE)) {
    if (ASCII_RE.test(word)) {
      for (let i = 0; i < word.length; ) {
        const triple = word.slice(i, i + 3);
        const piece = TRIPLE_RE.test(triple) ? triple : word.slice(i, i + 2);
        ids.push(pieceId(piece));
        i += piece.length;
      }
    } else {
      for (const byte of Buffer.from(word, "utf8")) ids.push(byte);
    }
  }
  return ids;
}

/** The text of each token (bytes of a multi-byte character show as U+FFFD alone). */
export function tokenStrings(ids: readonly number[]): string[] {
  return ids.map((id) => (id < BYTE_IDS ? Buffer.from([id]).toString("utf8") : pieceText(id)));
}

/** Text of token ids; undefined when an id is outside the vocabulary. */
export function detokenize(ids: readonly number[]): string | undefined {
  const parts: Buffer[] = [];
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= MAX_ID) return undefined;
    parts.push(id < BYTE_IDS ? Buffer.from([id]) : Buffer.from(pieceText(id), "latin1"));
  }
  return Buffer.concat(parts).toString("utf8");
}

export const VOCAB_SIZE = MAX_ID;

/** One-token words the simulated model "writes" (each re-tokenizes to exactly one token). */
export const GENERATED_WORDS = [
  " a",
  " I",
  " to",
  " of",
  " in",
  " is",
  " it",
  " on",
  " be",
  " as",
  " at",
  " by",
  " we",
  " he",
  " or",
  " an",
  " do",
  " if",
  " my",
  " up",
  " so",
  " no",
  " go",
  " me",
  " us",
  " am",
] as const;
