/**
 * Small seeded generators. Everything random in the simulator (output
 * lengths, generated words, fault draws) comes from here, so a run with the
 * same `--seed` and the same arrival order is reproducible.
 */

/** mulberry32: tiny, fast and good enough for simulation draws. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mix several integers into one 32-bit seed (so per-request streams are independent). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    let x = Math.floor(part) >>> 0;
    for (let i = 0; i < 4; i++) {
      h ^= x & 0xff;
      h = Math.imul(h, 0x01000193);
      x >>>= 8;
    }
    // High bits of seeds above 2^32 still matter.
    h ^= Math.floor(part / 4294967296) >>> 0;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** FNV-1a of a string, for seeding from text (temperature-0 outputs follow the prompt). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** An exponential draw with the given mean, at least 1, rounded to a whole token count. */
export function drawTokenCount(random: () => number, mean: number): number {
  return Math.max(1, Math.round(-Math.log(1 - random()) * mean));
}
