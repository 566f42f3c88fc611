/**
 * Where a rank sends its all-reduce chunks. `ringAllReduce` only needs this much, so the gRPC peer
 * client and the TCP data plane are interchangeable under it.
 */

/**
 * A chunk as the peer.proto serializer takes it (snake_case field names). The transport may read
 * `payload` until the chunk is written (the TCP plane sends it without copying): the sender keeps
 * those bytes unchanged until then, and the transport hands a pooled payload back to
 * `payloadPool` once written (views the pool does not own are left alone).
 */
export type OutgoingChunk = Record<string, unknown> & { payload: Uint8Array };

/** Limits of one chunk stream. */
export interface ChunkStreamOptions {
  /** Epoch milliseconds by which the whole stream must be over. */
  deadline: number;
  /** Most chunks waiting in the transport at once. */
  window: number;
  /** Longest wait for room on the stream. */
  stallMs: number;
  /** Called once if the stream fails (the receiver refused, died or timed out). */
  onError?: (err: Error) => void;
}

/** One collective's worth of chunks on their way to the right neighbour. */
export interface ChunkWriter {
  /** The stream's failure, once it has failed. */
  readonly error: Error | undefined;
  /** Queues one chunk; resolves once fewer than `window` chunks wait in the transport. */
  write(chunk: OutgoingChunk, signal?: AbortSignal): Promise<void>;
  /** Waits until every chunk is delivered (or acknowledged); returns how many went. */
  finish(timeoutMs: number, signal?: AbortSignal): Promise<number>;
  /** Gives up; the receiver learns its sender stopped. */
  cancel(): void;
}

/** A connection to the right neighbour that opens chunk streams. */
export interface ChunkSink {
  readonly address: string;
  openChunkStream(options: ChunkStreamOptions): ChunkWriter;
  close(): void;
}
