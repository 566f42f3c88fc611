/**
 * The client side of the peer service: one channel to the right neighbour, and per collective one
 * `SendChunks` stream with a bounded number of chunks in flight and a deadline on every wait.
 */
import * as grpc from "@grpc/grpc-js";
import type { Buffer } from "node:buffer";
import {
  channelCredentials,
  clientChannelOptions,
  peerService,
  type TlsFiles,
  tokenMetadata,
  UnavailableError,
} from "../../../proto/mod.ts";
import { ChunkTimeoutError } from "../chunk_mailbox.ts";
import { payloadPool } from "../buffer_pool.ts";
import type { ChunkSink, ChunkStreamOptions, ChunkWriter, OutgoingChunk } from "../chunk_sink.ts";

const sendChunks = peerService.SendChunks;

/** A channel to one peer server. */
export class PeerClient implements ChunkSink {
  readonly address: string;
  #client: grpc.Client;
  #token: string;

  constructor(address: string, options: { token: string; tls?: TlsFiles }) {
    this.address = address;
    this.#token = options.token;
    this.#client = new grpc.Client(
      address,
      channelCredentials(options.tls),
      clientChannelOptions(options.tls),
    );
  }

  /**
   * Opens a `SendChunks` stream that must finish by `deadline`. At most `window` chunks wait in
   * the transport at once; `write` waits (up to `stallMs`) for room.
   */
  openChunkStream(options: ChunkStreamOptions): ChunkStream {
    return new ChunkStream(this.#client, this.#token, this.address, options);
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }
}

/** One open `SendChunks` call. */
export class ChunkStream implements ChunkWriter {
  #call: grpc.ClientWritableStream<Buffer>;
  #inFlight = 0;
  #window: number;
  #stallMs: number;
  #address: string;
  #error: Error | undefined;
  #reply: Promise<number>;
  #wake: (() => void) | undefined;

  constructor(
    client: grpc.Client,
    token: string,
    address: string,
    options: ChunkStreamOptions,
  ) {
    this.#window = options.window;
    this.#stallMs = options.stallMs;
    this.#address = address;
    let settle!: (err: Error | null, received: number) => void;
    this.#reply = new Promise<number>((resolve, reject) => {
      settle = (err, received) => err ? reject(err) : resolve(received);
    });
    this.#reply.catch(() => {}); // observed through #error and finish()
    this.#call = client.makeClientStreamRequest(
      sendChunks.path,
      // Chunks are serialized in write(), so their payload may change or go back to the pool.
      (bytes: Buffer) => bytes,
      sendChunks.responseDeserialize,
      tokenMetadata(token),
      { deadline: options.deadline },
      (err: grpc.ServiceError | null, reply?: unknown) => {
        if (err) {
          this.#error = new UnavailableError(
            `Right neighbour ${address} ended the chunk stream: ${
              grpc.status[err.code]
            }: ${err.details}`,
          );
          this.#wake?.();
          options.onError?.(this.#error);
          return settle(this.#error, 0);
        }
        settle(null, Number((reply as { chunks_received?: number })?.chunks_received ?? 0));
      },
    );
    this.#call.on("error", () => {}); // surfaced through the callback above
  }

  /** The stream's failure, if the call already ended with an error. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Queues one chunk; resolves once fewer than `window` chunks are waiting in the transport. */
  async write(chunk: OutgoingChunk, signal?: AbortSignal): Promise<void> {
    if (this.#error) throw this.#error;
    this.#inFlight++;
    const message = sendChunks.requestSerialize(chunk);
    payloadPool.release(chunk.payload); // serialized: a copy now travels
    this.#call.write(message, () => {
      this.#inFlight--;
      if (this.#inFlight < this.#window) this.#wake?.();
    });
    if (this.#inFlight >= this.#window) await this.#roomOrFail(signal);
  }

  /** Half-closes the stream and waits for the receiver's count of chunks. */
  async finish(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    if (this.#error) throw this.#error;
    this.#call.end();
    return await withTimeout(
      this.#reply,
      timeoutMs,
      `No acknowledgement from right neighbour ${this.#address} within ${timeoutMs} ms`,
      signal,
    );
  }

  /** Cancels the call; the receiver learns its sender gave up. */
  cancel(): void {
    this.#call.cancel();
  }

  #roomOrFail(signal?: AbortSignal): Promise<void> {
    const wait = new Promise<void>((resolve) => {
      this.#wake = () => {
        if (this.#inFlight < this.#window || this.#error) {
          this.#wake = undefined;
          resolve();
        }
      };
    });
    return withTimeout(
      wait,
      this.#stallMs,
      `Right neighbour ${this.#address} took no chunk for ${this.#stallMs} ms`,
      signal,
    ).then(() => {
      if (this.#error) throw this.#error;
    });
  }
}

/** Resolves like `promise`, or rejects after `ms` or when `signal` aborts. */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message: string,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => finish(() => reject(signal!.reason));
    const timer = setTimeout(() => finish(() => reject(new ChunkTimeoutError(message))), ms);
    const finish = (then: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      then();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then((v) => finish(() => resolve(v)), (e) => finish(() => reject(e)));
  });
}
