import { atomicWriteFile } from "../model/atomic_write.ts";
import type { ManifestShard, ShardDtype } from "../model/data/mod.ts";
import { sha256Hex } from "../model/sha256.ts";
import type { Split } from "./assign_splits.ts";

/**
 * Writes one split's tokens as fixed-size little-endian shards `<split>_00000.bin`… as they fill,
 * each atomically, holding at most one shard in memory. The last shard may be shorter.
 *
 * @example
 * ```ts
 * const w = new ShardWriter("runs/data", "train", "uint16", 1 << 20);
 * await w.append(Uint16Array.of(5, 6, 7));
 * const shards = await w.finish();
 * ```
 */
export class ShardWriter {
  readonly #dir: string;
  readonly #split: Split;
  readonly #buffer: DataView;
  readonly #width: number;
  readonly #capacity: number;
  #filled = 0;
  #shards: ManifestShard[] = [];
  /** Tokens written so far, the unflushed ones included. */
  tokens = 0;

  constructor(dir: string, split: Split, dtype: ShardDtype, shardTokens: number) {
    this.#dir = dir;
    this.#split = split;
    this.#width = dtype === "uint16" ? 2 : 4;
    this.#capacity = shardTokens;
    this.#buffer = new DataView(new ArrayBuffer(shardTokens * this.#width));
  }

  /** Appends tokens, writing every shard that fills. */
  async append(tokens: ArrayLike<number>): Promise<void> {
    for (let i = 0; i < tokens.length; i++) {
      if (this.#width === 2) this.#buffer.setUint16(this.#filled * 2, tokens[i], true);
      else this.#buffer.setUint32(this.#filled * 4, tokens[i], true);
      if (++this.#filled === this.#capacity) await this.#flush();
    }
    this.tokens += tokens.length;
  }

  /** Writes the last, partial shard; returns the manifest entries of every shard written. */
  async finish(): Promise<ManifestShard[]> {
    if (this.#filled > 0) await this.#flush();
    return this.#shards;
  }

  async #flush(): Promise<void> {
    const bytes = new Uint8Array(this.#buffer.buffer, 0, this.#filled * this.#width).slice();
    const file = `${this.#split}_${String(this.#shards.length).padStart(5, "0")}.bin`;
    await atomicWriteFile(`${this.#dir}/${file}`, bytes);
    this.#shards.push({
      file,
      split: this.#split,
      tokens: this.#filled,
      sha256: await sha256Hex(bytes),
    });
    this.#filled = 0;
  }
}

/** Removes shard files a previous run left that this run did not write. */
export async function removeStaleShards(dir: string, keep: ReadonlySet<string>): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (/^(train|val)_\d{5}\.bin$/.test(e.name) && !keep.has(e.name)) {
      await Deno.remove(`${dir}/${e.name}`);
    }
  }
}
