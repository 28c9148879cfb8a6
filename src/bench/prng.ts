/**
 * The generator's randomness: xoshiro128** seeded through splitmix32. Deterministic on
 * every machine and Node version, as the dataset must be (gen.ts).
 */

/** splitmix32: turns any 32-bit seed into well-spread state words. */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** xoshiro128**: a small, fast, well-tested PRNG; 32-bit unsigned outputs. */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(state: readonly [number, number, number, number]) {
    [this.#a, this.#b, this.#c, this.#d] = state.map((word) => word >>> 0) as [
      number,
      number,
      number,
      number,
    ];
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  /** From a seed of up to 53 bits, and an optional stream number (a file's index). */
  static from(seed: number, stream = 0): Prng {
    const low = seed % 0x100000000;
    const high = Math.floor(seed / 0x100000000);
    const mix = splitmix32(low ^ Math.imul(high + 1, 0x27d4eb2f) ^ Math.imul(stream + 1, 0x165667b1));
    return new Prng([mix(), mix(), mix(), mix()]);
  }

  next(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** In [0, 1). */
  float(): number {
    return this.next() / 0x100000000;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Four words for another generator's state. */
  state(): [number, number, number, number] {
    return [this.next(), this.next(), this.next(), this.next()];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
