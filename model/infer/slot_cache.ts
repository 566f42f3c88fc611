/**
 * What the inference engine asks of a key/value cache of sequence slots, whichever memory holds it,
 * and the capacity policy both caches follow.
 */
import type { ort } from "../runtime.ts";

/**
 * What the engine asks of a cache of slots, kept on the host (`KvCache`) or in GPU memory
 * (`DeviceKvCache`): live sequences occupy slots 0 … live−1.
 */
export interface SlotCache {
  /** Tokens held by each slot. */
  readonly lengths: Int32Array;
  /** Positions each slot has room for now. */
  readonly capacity: number;
  /** Whether it lives in GPU memory: then the graphs' key and value outputs stay there too. */
  readonly onDevice: boolean;
  /** The capacity that holds `tokens` positions: whole blocks, at most the context. */
  capacityFor(tokens: number): number;
  /**
   * Holds a prefill's `present_k.i` / `present_v.i` outputs (`out`, [1, heads, padded length,
   * headWidth]) as the first `tokens` positions of `slot`; `live` slots are in use.
   */
  place(
    slot: number,
    out: Record<string, ort.Tensor>,
    tokens: number,
    live: number,
  ): Promise<void>;
  /** The decode step's cache feeds for the first `rows` slots, the capacity set to `capacity`. */
  decodeFeeds(rows: number, capacity: number): Promise<Record<string, ort.Tensor>>;
  /** Takes a decode step's outputs for the first `rows` slots (each slot's length not yet moved on). */
  adopt(out: Record<string, ort.Tensor>, rows: number): void;
  /** Frees `slot`, the last live slot (`last`) moving into it. */
  release(slot: number, last: number): void;
}

/** Positions the capacity grows and shrinks by. */
export const CACHE_BLOCK = 32;

/** The capacity that holds `tokens` positions: whole blocks, at most `context`. */
export function cacheCapacity(tokens: number, context: number): number {
  return Math.min(context, Math.ceil(Math.max(tokens, 1) / CACHE_BLOCK) * CACHE_BLOCK);
}
