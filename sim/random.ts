/**
 * Small seeded generators. Everything random in the simulator (output
 * lengths, generated words, fault draws) comes from here, so a run with the
 * same `--seed` and the same arrival order is reproducible.
 */
import { createRng } from "../stats/rng.ts";

export { hashString, mixSeed } from "../stats/hash.ts";

/** A seeded uniform [0, 1) source: the one RNG (stats/rng.ts), as a bare function. */
export function uniform(seed: number): () => number {
  return createRng(seed).next;
}

/** An exponential draw with the given mean, at least 1, rounded to a whole token count. */
export function drawTokenCount(random: () => number, mean: number): number {
  return Math.max(1, Math.round(-Math.log(1 - random()) * mean));
}
