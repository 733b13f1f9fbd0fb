import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detokenize, GENERATED_WORDS, tokenize } from "../../sim/tokenizer.ts";

describe("pseudo-tokenizer", () => {
  it("round-trips any text (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 200 }),
        (text) => detokenize(tokenize(text)) === text,
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  it("is deterministic and about 3 characters per token on English", () => {
    const text = "The quick brown fox jumps over the lazy dog, again and again.";
    expect(tokenize(text)).toEqual(tokenize(text));
    const ratio = text.length / tokenize(text).length;
    expect(ratio).toBeGreaterThan(2);
    expect(ratio).toBeLessThan(4);
  });

  it("generated words re-tokenize to exactly one token each, also concatenated", () => {
    for (const word of GENERATED_WORDS) expect(tokenize(word)).toHaveLength(1);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...GENERATED_WORDS), { maxLength: 100 }),
        (words) => tokenize(words.join("")).length === words.length,
      ),
      { seed: 7 },
    );
  });
});
