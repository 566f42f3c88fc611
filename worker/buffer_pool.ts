/**
 * Reused buffers of one capacity. A fresh megabyte-sized allocation costs page faults on first
 * touch: copying a 1 MiB chunk into a new array runs at about 2 GB/s under Deno, into a reused one
 * at about 40 GB/s. The data plane copies every chunk once on each side, so both sides pool.
 */
import { MAX_CHUNK_BYTES } from "../proto/mod.ts";

export class BufferPool {
  readonly capacity: number;
  /** Buffers ready to hand out; a set, so a second release of one view changes nothing. */
  readonly #free = new Set<ArrayBuffer>();
  readonly #owned = new WeakSet<ArrayBuffer>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** A view of `length` bytes (at most the capacity) over a pooled buffer. */
  take(length: number): Uint8Array<ArrayBuffer> {
    if (length > this.capacity) {
      throw new RangeError(`${length} bytes exceed the pool's ${this.capacity}`);
    }
    let buffer = this.#free.values().next().value;
    if (buffer) this.#free.delete(buffer);
    else this.#owned.add(buffer = new ArrayBuffer(this.capacity));
    return new Uint8Array(buffer, 0, length);
  }

  /** Hands a view's buffer back once nothing reads it; views from elsewhere are left alone. */
  release(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    if (this.#owned.has(buffer)) this.#free.add(buffer);
  }
}

/**
 * Payloads of received chunks: the TCP data plane copies each chunk out of its read buffer into
 * one of these, and the all-reduce releases it once the chunk is added in.
 */
export const payloadPool = new BufferPool(MAX_CHUNK_BYTES);
