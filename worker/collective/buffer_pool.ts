/**
 * Reused buffers of one capacity. A fresh megabyte-sized allocation costs page faults on first
 * touch, a reused one does not (docs/allreduce.md has the figures). The data plane reads every
 * large received payload into a pooled array.
 */
import { MAX_CHUNK_BYTES } from "../../proto/mod.ts";

export class BufferPool {
  readonly capacity: number;
  /**
   * Buffers ready to hand out, the last released on top: it is the likeliest still in cache,
   * where a first-in-first-out pool would cycle through all of them.
   */
  readonly #free: ArrayBuffer[] = [];
  /** The same, as a set, so a second release of one view changes nothing. */
  readonly #isFree = new Set<ArrayBuffer>();
  readonly #owned = new WeakSet<ArrayBuffer>();
  /** Views of memory the pool does not own, each with what releasing it does. */
  readonly #tracked = new WeakMap<Uint8Array, () => void>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** A view of `length` bytes (at most the capacity) over a pooled buffer. */
  take(length: number): Uint8Array<ArrayBuffer> {
    if (length > this.capacity) {
      throw new RangeError(`${length} bytes exceed the pool's ${this.capacity}`);
    }
    let buffer = this.#free.pop();
    if (buffer) this.#isFree.delete(buffer);
    else this.#owned.add(buffer = new ArrayBuffer(this.capacity));
    return new Uint8Array(buffer, 0, length);
  }

  /**
   * Makes releasing `view`, a view of memory the pool does not own (a shared-memory slot), call
   * `onRelease` once, so code that hands payloads back need not know where they came from.
   */
  track(view: Uint8Array, onRelease: () => void): void {
    this.#tracked.set(view, onRelease);
  }

  /**
   * Hands a view's buffer back once nothing reads it, or calls what {@linkcode track} registered
   * for it; other views are left alone.
   */
  release(view: Uint8Array): void {
    const onRelease = this.#tracked.get(view);
    if (onRelease) {
      this.#tracked.delete(view);
      return onRelease();
    }
    const buffer = view.buffer as ArrayBuffer;
    if (!this.#owned.has(buffer) || this.#isFree.has(buffer)) return;
    this.#isFree.add(buffer);
    this.#free.push(buffer);
  }
}

/**
 * Chunk payloads: the TCP data plane reads each received one into one of these, the all-reduce
 * encodes each 16-bit one it sends into one, and whoever is done with a payload hands it back.
 */
export const payloadPool = new BufferPool(MAX_CHUNK_BYTES);
