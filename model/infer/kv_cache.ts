/**
 * The key/value cache of every slot, kept in TypeScript: per layer one Float32Array for keys and
 * one for values, each [slots, heads, capacity, headWidth]. A decode step reads the first `b` slots
 * as one contiguous view (no copy) and writes back only the new token's keys and values. (Keys
 * stored transposed spare the decode graph a transposed MatMul but cost more in scattered writes
 * and re-strides than they save; docs/serving.md has the figure.)
 *
 * The capacity (positions per slot) follows the longest live sequence in steps of
 * {@linkcode CACHE_BLOCK}, so a step reads and attends over about as many positions as the
 * sequences hold instead of the whole context. Changing it re-strides the live slots in place; the
 * arrays are allocated for the whole context once.
 */
import type { GptConfig } from "../gpt/mod.ts";
import { ort } from "../runtime.ts";
import { CACHE_BLOCK, cacheCapacity, type SlotCache } from "./slot_cache.ts";

/** Caches of `slots` sequences for the model `cfg`. */
export class KvCache implements SlotCache {
  readonly onDevice = false;
  readonly slots: number;
  readonly heads: number;
  readonly context: number;
  readonly headWidth: number;
  /** Tokens held by each slot. */
  readonly lengths: Int32Array;
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  #capacity: number;

  constructor(cfg: GptConfig, slots: number) {
    this.slots = slots;
    this.heads = cfg.heads;
    this.context = cfg.contextLength;
    this.headWidth = cfg.width / cfg.heads;
    this.lengths = new Int32Array(slots);
    this.#capacity = Math.min(CACHE_BLOCK, this.context);
    const size = slots * this.heads * this.context * this.headWidth;
    this.keys = Array.from({ length: cfg.layers }, () => new Float32Array(size));
    this.values = Array.from({ length: cfg.layers }, () => new Float32Array(size));
  }

  /** Positions each slot has room for now. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Floats one slot holds in one layer's keys (or values) at the current capacity. */
  get slotSize(): number {
    return this.heads * this.#capacity * this.headWidth;
  }

  /** The capacity that holds `tokens` positions: whole blocks, at most the context. */
  capacityFor(tokens: number): number {
    return cacheCapacity(tokens, this.context);
  }

  /**
   * Sets the capacity to `capacity` positions, keeping the first `live` slots' contents (their
   * lengths must fit). Positions past a slot's length hold stale but finite numbers.
   */
  resize(capacity: number, live: number): void {
    if (capacity < 1 || capacity > this.context) {
      throw new RangeError(`Capacity ${capacity} is outside 1…${this.context}`);
    }
    for (let s = 0; s < live; s++) {
      if (this.lengths[s] > capacity) {
        throw new RangeError(`Slot ${s} holds ${this.lengths[s]} tokens, more than ${capacity}`);
      }
    }
    const from = this.#capacity;
    this.#capacity = capacity;
    if (from === capacity || live === 0) return;
    const rows = live * this.heads, d = this.headWidth;
    for (const a of [...this.keys, ...this.values]) restride(a, rows, from * d, capacity * d);
  }

  place(
    slot: number,
    out: Record<string, ort.Tensor>,
    tokens: number,
    live: number,
  ): Promise<void> {
    const capacity = this.capacityFor(tokens);
    if (capacity > this.#capacity) this.resize(capacity, live);
    for (let i = 0; i < this.keys.length; i++) {
      const k = out[`present_k.${i}`], v = out[`present_v.${i}`];
      const length = Number(k.dims[2]);
      this.write(i, slot, 0, k.data as Float32Array, v.data as Float32Array, 0, length, tokens);
    }
    return Promise.resolve();
  }

  /** The first `rows` slots' keys and values as views (no copy). */
  decodeFeeds(rows: number, capacity: number): Promise<Record<string, ort.Tensor>> {
    if (capacity !== this.#capacity) this.resize(capacity, rows);
    const shape = [rows, this.heads, capacity, this.headWidth];
    const size = rows * this.slotSize;
    const feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.keys.length; i++) {
      feeds[`past_k.${i}`] = new ort.Tensor("float32", this.keys[i].subarray(0, size), shape);
      feeds[`past_v.${i}`] = new ort.Tensor("float32", this.values[i].subarray(0, size), shape);
    }
    return Promise.resolve(feeds);
  }

  /** Writes each slot's new token's keys and values (`present_k.i` / `present_v.i`) at its length. */
  adopt(out: Record<string, ort.Tensor>, rows: number): void {
    for (let i = 0; i < this.keys.length; i++) {
      const k = out[`present_k.${i}`].data as Float32Array;
      const v = out[`present_v.${i}`].data as Float32Array;
      for (let s = 0; s < rows; s++) this.write(i, s, this.lengths[s], k, v, s, 1);
    }
  }

  release(slot: number, last: number): void {
    if (slot === last) this.lengths[slot] = 0;
    else this.move(last, slot);
  }

  /**
   * Writes `tokens` positions of keys and values, laid out [rows, heads, tokens, headWidth] with
   * `row` picking the row, into `slot` starting at position `start`; `count` of them are kept.
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
    const { heads: h, headWidth: d } = this, c = this.#capacity;
    if (start + count > c) throw new RangeError(`Positions up to ${start + count} exceed ${c}`);
    const keys = this.keys[layer], values = this.values[layer], n = count * d;
    for (let head = 0; head < h; head++) {
      const from = ((row * h + head) * tokens) * d;
      const to = ((slot * h + head) * c + start) * d;
      // A plain loop: a decode step writes short runs (one head's width), where subarray + set
      // costs more per call than the copy itself.
      for (let j = 0; j < n; j++) {
        keys[to + j] = k[from + j];
        values[to + j] = v[from + j];
      }
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

/**
 * Moves `rows` consecutive rows from a stride of `from` floats to a stride of `to`, in place,
 * keeping min(from, to) floats of each: last row first when growing, first row first when
 * shrinking, so no row is overwritten before it moves.
 */
function restride(a: Float32Array, rows: number, from: number, to: number): void {
  const keep = Math.min(from, to);
  if (to > from) {
    for (let r = rows - 1; r > 0; r--) a.copyWithin(r * to, r * from, r * from + keep);
  } else {
    for (let r = 1; r < rows; r++) a.copyWithin(r * to, r * from, r * from + keep);
  }
}
