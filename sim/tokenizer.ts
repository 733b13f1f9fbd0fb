/**
 * A deterministic, invertible pseudo-tokenizer. Text is pre-split into words
 * (an optional leading space plus a run of letters, digits or punctuation),
 * each word is cut into pieces of at most three ASCII characters, and every
 * piece maps to one id; non-ASCII characters become one token per UTF-8 byte.
 * Roughly 3 characters per token, like a real BPE vocabulary on English.
 *
 * The words the simulator generates (`GENERATED_WORDS`) are each exactly one
 * token and start with a space, so re-tokenizing generated text yields exactly
 * as many tokens as were streamed: `usage` agrees with `/tokenize`.
 */

const PIECE_CHARS = 3;
const ASCII_FIRST = 32; // ' '
const ASCII_COUNT = 95; // ' ' .. '~'
/** Ids 0..255 are raw UTF-8 bytes; ASCII pieces start after them. */
const BYTE_IDS = 256;
const WORD_RE = / ?[A-Za-z]+| ?[0-9]+| ?[!-/:-@[-`{-~]+|\s+|[^\x20-\x7e]+/g;

const ASCII_RE = /^[\x20-\x7e]+$/;

function pieceId(piece: string): number {
  // Base-95 with a length offset so pieces of different lengths never collide.
  let id = 0;
  let offset = 0;
  let size = 1;
  for (let len = 1; len < piece.length; len++) {
    size *= ASCII_COUNT;
    offset += size;
  }
  for (let i = 0; i < piece.length; i++)
    id = id * ASCII_COUNT + (piece.charCodeAt(i) - ASCII_FIRST);
  return BYTE_IDS + offset + id;
}

const MAX_ID = BYTE_IDS + ASCII_COUNT + ASCII_COUNT ** 2 + ASCII_COUNT ** 3;

function pieceText(id: number): string {
  let rest = id - BYTE_IDS;
  let len = 1;
  while (len < PIECE_CHARS && rest >= ASCII_COUNT ** len) {
    rest -= ASCII_COUNT ** len;
    len++;
  }
  let text = "";
  for (let i = 0; i < len; i++) {
    text = String.fromCharCode(ASCII_FIRST + (rest % ASCII_COUNT)) + text;
    rest = Math.floor(rest / ASCII_COUNT);
  }
  return text;
}

/** Token ids of `text`. */
export function tokenize(text: string): number[] {
  const ids: number[] = [];
  for (const [word] of text.matchAll(WORD_RE)) {
    if (ASCII_RE.test(word)) {
      for (let i = 0; i < word.length; i += PIECE_CHARS)
        ids.push(pieceId(word.slice(i, i + PIECE_CHARS)));
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
