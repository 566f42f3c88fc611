/**
 * Training samples: the token stream cut into non-overlapping windows of `sequenceLength + 1`
 * tokens (inputs and the next-token targets), visited in a seeded permutation per epoch. A sample
 * is addressed by its global index, so the data position of a run is one number: how many samples
 * it has consumed. Every window is used once per epoch, whoever consumes it.
 */
import { InputError } from "../errors.ts";
import { Rng } from "../optim/mod.ts";

/** Token ids in a flat array (uint16 or uint32 shards, or anything indexable). */
export type TokenArray = ArrayLike<number>;

export class WindowSampler {
  readonly windows: number;
  readonly #tokens: TokenArray;
  readonly #length: number;
  readonly #seed: number;
  #epoch = -1;
  #order = new Uint32Array(0);

  constructor(tokens: TokenArray, sequenceLength: number, seed: number, source = "training data") {
    this.windows = Math.floor((tokens.length - 1) / sequenceLength);
    if (this.windows < 1) {
      throw new InputError(
        source,
        `${tokens.length} tokens are too few for one sequence of ${sequenceLength} (+1 target)`,
      );
    }
    this.#tokens = tokens;
    this.#length = sequenceLength;
    this.#seed = seed;
  }

  /** The window (0 … windows−1) that global sample `index` reads. */
  window(index: number): number {
    const epoch = Math.floor(index / this.windows);
    if (epoch !== this.#epoch) this.#shuffle(epoch);
    return this.#order[index % this.windows];
  }

  /** Writes sample `index` into row `row` of `ids` and `targets` (each rows × sequenceLength). */
  fill(index: number, ids: BigInt64Array, targets: BigInt64Array, row: number): void {
    const t = this.#length, start = this.window(index) * t, at = row * t;
    for (let j = 0; j < t; j++) {
      ids[at + j] = BigInt(this.#tokens[start + j]);
      targets[at + j] = BigInt(this.#tokens[start + j + 1]);
    }
  }

  #shuffle(epoch: number): void {
    const rng = new Rng(this.#seed * 1_000_003 + epoch);
    const order = Uint32Array.from({ length: this.windows }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.nextU32() % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    this.#order = order;
    this.#epoch = epoch;
  }
}
