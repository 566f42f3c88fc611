/**
 * A windowed chunk stream over an ordered send queue: `write` queues a chunk and returns at once
 * while fewer than `window` chunks wait, else waits (at most `stallMs`) for one to go. The first
 * failure fails the stream and is reported through `onError`.
 */
import { UnauthenticatedError, UnavailableError } from "../../../proto/mod.ts";
import { payloadPool } from "../buffer_pool.ts";
import type { ChunkStreamOptions, ChunkWriter, OutgoingChunk } from "../chunk_sink.ts";
import { withTimeout } from "../grpc/peer_client.ts";

/** What a windowed writer needs from the connection under it (the TCP peer client). */
export interface ChunkQueue {
  readonly address: string;
  /** Writes `chunk` after every chunk queued before it; skips it once `live()` is false. */
  send(chunk: OutgoingChunk, deadline: number, live: () => boolean): Promise<void>;
  /** Resolves once every queued chunk is written. */
  drained(): Promise<void>;
  /** Resolves once the receiver has read every payload it reads in place. */
  consumed(): Promise<void>;
  /** Drops the connection, so the receiver fails the collective in progress. */
  drop(): void;
}

/** One collective's chunks on a {@linkcode ChunkQueue}, at most `window` of them waiting. */
export class WindowedChunkWriter implements ChunkWriter {
  #queue: ChunkQueue;
  #options: ChunkStreamOptions;
  #inFlight = 0;
  #sent = 0;
  #error: Error | undefined;
  #cancelled = false;
  #wake: (() => void) | undefined;

  constructor(queue: ChunkQueue, options: ChunkStreamOptions) {
    this.#queue = queue;
    this.#options = options;
  }

  get error(): Error | undefined {
    return this.#error;
  }

  async write(chunk: OutgoingChunk, signal?: AbortSignal): Promise<void> {
    if (this.#error) {
      payloadPool.release(chunk.payload);
      throw this.#error;
    }
    this.#inFlight++;
    this.#queue.send(chunk, this.#options.deadline, () => !this.#cancelled).then(
      () => {
        payloadPool.release(chunk.payload);
        this.#inFlight--;
        this.#sent++;
        this.#wake?.();
      },
      (err) => {
        payloadPool.release(chunk.payload);
        this.#fail(err);
      },
    );
    if (this.#inFlight < this.#options.window) return;
    await withTimeout(
      new Promise<void>((resolve) => {
        this.#wake = () => {
          if (this.#inFlight < this.#options.window || this.#error) resolve();
        };
      }),
      this.#options.stallMs,
      `Right neighbour ${this.#queue.address} took no chunk for ${this.#options.stallMs} ms`,
      signal,
    );
    this.#wake = undefined;
    if (this.#error) throw this.#error;
  }

  async finish(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    if (this.#error) throw this.#error;
    await withTimeout(
      this.#queue.drained().then(() => this.#queue.consumed()),
      timeoutMs,
      `Right neighbour ${this.#queue.address} took no chunk for ${timeoutMs} ms`,
      signal,
    );
    if (this.#error) throw this.#error;
    return this.#sent;
  }

  cancel(): void {
    this.#cancelled = true;
    this.#queue.drop();
  }

  #fail(err: unknown) {
    if (this.#error) return;
    const why = err instanceof Error ? err.message : String(err);
    this.#error = err instanceof UnauthenticatedError ? err : new UnavailableError(
      `Right neighbour ${this.#queue.address} data connection failed: ${why}`,
    );
    this.#options.onError?.(this.#error);
    this.#wake?.();
  }
}
