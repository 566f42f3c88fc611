/**
 * The key/value cache of every slot, kept in TypeScript: per layer one Float32Array for keys and
 * one for values, each [slots, heads, context, headWidth]. A decode step reads the first `b` slots
 * as one contiguous view (no copy) and writes back only the new token's keys and values.
 */
import type { GptConfig } from "../gpt/mod.ts";

/** Caches of `slots` sequences for the model `cfg`. */
export class KvCache {
  readonly slots: number;
  readonly heads: number;
  readonly context: number;
  readonly headWidth: number;
  /** Tokens held by each slot. */
  readonly lengths: Int32Array;
  readonly keys: Float32Array[];
  readonly values: Float32Array[];

  constructor(cfg: GptConfig, slots: number) {
    this.slots = slots;
    this.heads = cfg.heads;
    this.context = cfg.contextLength;
    this.headWidth = cfg.width / cfg.heads;
    this.lengths = new Int32Array(slots);
    const size = slots * this.slotSize;
    this.keys = Array.from({ length: cfg.layers }, () => new Float32Array(size));
    this.values = Array.from({ length: cfg.layers }, () => new Float32Array(size));
  }

  /** Floats one slot holds in one layer's keys (or values). */
  get slotSize(): number {
    return this.heads * this.context * this.headWidth;
  }

  /**
   * Writes `tokens` positions of keys and values, laid out [rows, heads, tokens, headWidth] with
   * `row` picking the row, into `slot` starting at position `start`.
   */
  write(
    layer: number,
    slot: number,
    start: number,
    k: Float32Array,
    v: Float32Array,
    row: number,
    tokens: number,
    count = tokens,
  ): void {
    const { heads: h, context: c, headWidth: d } = this;
    for (let head = 0; head < h; head++) {
      const from = ((row * h + head) * tokens) * d;
      const to = ((slot * h + head) * c + start) * d;
      this.keys[layer].set(k.subarray(from, from + count * d), to);
      this.values[layer].set(v.subarray(from, from + count * d), to);
    }
  }

  /** Copies slot `from` over slot `to` (used to keep the live slots at the front). */
  move(from: number, to: number): void {
    if (from === to) return;
    const n = this.slotSize;
    for (const a of [...this.keys, ...this.values]) a.copyWithin(to * n, from * n, (from + 1) * n);
    this.lengths[to] = this.lengths[from];
    this.lengths[from] = 0;
  }
}
