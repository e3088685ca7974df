/**
 * Seedable randomness for the simulator and the tests. The engine never calls Math.random():
 * callers pass a `RandomSource` (a function returning a uniform number in [0, 1)).
 */
export type RandomSource = () => number;

/** mulberry32: a tiny, fast 32-bit generator; plenty for a market simulation. */
export function mulberry32(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal variate (Box–Muller; one of the pair is discarded for simplicity). */
export function normal(random: RandomSource): number {
  let u = random();
  while (u <= Number.EPSILON) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A Poisson variate (Knuth's method; means here are small, < 30). */
export function poisson(random: RandomSource, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

/** An integer in [min, max]. */
export function integerBetween(random: RandomSource, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
