/**
 * A small seeded PRNG for schedules and prompts: the same seed gives the same
 * run on both engines (k6 has no seedable Math.random, Node's is unseeded).
 * sfc32 seeded through splitmix32, so nearby seeds give unrelated streams.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform integer in [min, max], both included. */
  intBetween(min: number, max: number): number;
  /** Standard normal (mean 0, sd 1). */
  normal(): number;
  /** Exponential with the given mean. */
  exponential(mean: number): number;
  /** Gamma(shape, scale): mean shape·scale, variance shape·scale². */
  gamma(shape: number, scale: number): number;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * `stream` derives an independent generator from the same seed (one per user,
 * one for arrivals, one for prompt choice) so that the order in which
 * concurrent requests finish never changes what any one stream draws.
 */
export function createRng(seed: number, stream = 0): Rng {
  const init = splitmix32((seed >>> 0) ^ Math.imul(stream + 1, 0x27d4eb2f));
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const nextU32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) nextU32();

  const next = (): number => nextU32() / 4294967296;
  let spareNormal: number | null = null;
  const normal = (): number => {
    if (spareNormal !== null) {
      const value = spareNormal;
      spareNormal = null;
      return value;
    }
    // Box–Muller; 1 − u keeps log() away from 0.
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  const gamma = (shape: number, scale: number): number => {
    // Marsaglia & Tsang (2000); shape < 1 via the boost Gamma(k) = Gamma(k+1)·U^(1/k).
    if (shape < 1) return gamma(shape + 1, scale) * (1 - next()) ** (1 / shape);
    const dd = shape - 1 / 3;
    const cc = 1 / Math.sqrt(9 * dd);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + cc * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - next();
      if (Math.log(u) < 0.5 * x * x + dd - dd * v + dd * Math.log(v)) return dd * v * scale;
    }
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    intBetween: (min, max) => min + Math.floor(next() * (max - min + 1)),
    normal,
    exponential: (mean) => -Math.log(1 - next()) * mean,
    gamma,
  };
}
