/**
 * FNV-1a hashing for seeds: one definition, so the simulator, the workload
 * core and the bootstrap derive their independent streams the same way.
 * No Node APIs: k6 loads this file too.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of a string, optionally starting from a seed (temperature-0 outputs follow the prompt). */
export function hashString(text: string, seed = 0): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Mix several integers into one 32-bit seed (so per-request streams are independent). */
export function mixSeed(...parts: number[]): number {
  let h = FNV_OFFSET;
  for (const part of parts) {
    let x = Math.floor(part) >>> 0;
    for (let i = 0; i < 4; i++) {
      h ^= x & 0xff;
      h = Math.imul(h, FNV_PRIME);
      x >>>= 8;
    }
    // High bits of seeds above 2^32 still matter.
    h ^= Math.floor(part / 4294967296) >>> 0;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}
