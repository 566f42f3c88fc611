/**
 * A seeded random source with a serialisable state: xoshiro128** (Blackman and Vigna) seeded by
 * splitmix32, with Box–Muller normals. The cached second normal is part of the state, so a restored
 * generator continues the exact stream. Used for N(0, 0.02) init and data shuffling.
 *
 * @example
 * ```ts
 * const rng = new Rng(1234);
 * const w = rng.fillNormal(new Float32Array(16), 0, 0.02);
 * const saved = rng.exportState(); // JSON-safe
 * const again = Rng.fromState(saved); // continues the same stream
 * ```
 */
import { InputError } from "../errors.ts";

/** A generator's state, safe to store in JSON. */
export interface RngState {
  /** The four 32-bit words of xoshiro128**. */
  s: [number, number, number, number];
  /** The Box–Muller normal drawn but not yet returned, or null. */
  spare: number | null;
}

/** xoshiro128** with Box–Muller normals; see the module doc. */
export class Rng {
  #s = new Uint32Array(4);
  #spare: number | null = null;

  /** Seeds the four state words from `seed` (any integer) with splitmix32. */
  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#s[i] = z ^ (z >>> 16);
    }
    if (this.#s.every((w) => w === 0)) this.#s[0] = 1; // the all-zero state is a fixed point
  }

  /** A generator that continues from a saved state. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.importState(state);
    return rng;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n), without modulo bias; `n` at most 2^32. */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0 && n <= 4294967296)) {
      throw new RangeError(`Rng.int needs an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** A normal sample N(mean, std²) by Box–Muller; the second value of each pair is cached. */
  normal(mean = 0, std = 1): number {
    if (this.#spare !== null) {
      const z = this.#spare;
      this.#spare = null;
      return mean + std * z;
    }
    const u1 = 1 - this.next(); // (0, 1]: log stays finite
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.#spare = r * Math.sin(2 * Math.PI * u2);
    return mean + std * r * Math.cos(2 * Math.PI * u2);
  }

  /** Fills `out` with N(mean, std²) samples and returns it. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A JSON-safe copy of the state. */
  exportState(): RngState {
    const [a, b, c, d] = this.#s;
    return { s: [a, b, c, d], spare: this.#spare };
  }

  /** Continues from a saved state. */
  importState(state: RngState): void {
    const ok = Array.isArray(state?.s) && state.s.length === 4 &&
      state.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
      !state.s.every((w) => w === 0) &&
      (state.spare === null || Number.isFinite(state.spare));
    if (!ok) throw new InputError("rng state", `Not a valid state: ${JSON.stringify(state)}`);
    this.#s.set(state.s);
    this.#spare = state.spare;
  }

  /** Sets the raw state words (for tests against reference vectors). */
  static fromWords(words: [number, number, number, number]): Rng {
    return Rng.fromState({ s: words, spare: null });
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A uniform [0, 1) source as a plain function, for code that only needs `() => number`. */
export function seededRandom(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}
