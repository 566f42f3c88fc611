/**
 * Where the peer server files incoming all-reduce chunks until the ring loop asks for them. A
 * chunk may arrive before the receiver reaches its round (the left neighbour runs ahead), so chunks
 * wait under their (ring version, step, bucket, phase, round, chunk index) key; a loop waiting for a
 * chunk that has not come yet waits with a deadline and an AbortSignal, never forever.
 */
import type { AllReduceChunk, RingPhase } from "../../proto/mod.ts";
import { PreconditionError, ResourceExhaustedError } from "../../proto/mod.ts";
import { payloadPool } from "./buffer_pool.ts";

/** One collective: an all-reduce of one bucket in one step of one ring. */
export interface CollectiveId {
  ringVersion: number;
  step: number;
  bucket: number;
}

/** Where one chunk sits within a collective. */
export interface ChunkSlot {
  phase: RingPhase;
  round: number;
  chunkIndex: number;
}

/** Raised when a wait for a chunk runs out of time. */
export class ChunkTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

interface Waiter {
  resolve(chunk: AllReduceChunk): void;
  reject(err: Error): void;
}

/** How many finished collectives are remembered, so their late chunks are refused, not stored. */
const CLOSED_MEMORY = 1024;

/** Holds chunks for one job; shared by the peer server (puts) and `ringAllReduce` (takes). */
export class ChunkMailbox {
  readonly jobId: string;
  readonly maxBufferedBytes: number;
  #bufferedBytes = 0;
  #chunks = new Map<string, AllReduceChunk>();
  #waiters = new Map<string, Waiter>();
  #failed = new Map<string, Error>();
  #closed = new Set<string>();

  constructor(jobId: string, options: { maxBufferedBytes?: number } = {}) {
    this.jobId = jobId;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024 * 1024;
  }

  /** Bytes of payload waiting to be taken. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /**
   * Files a validated chunk, or hands it to the loop already waiting for it. Throws
   * PreconditionError for another job, a finished collective or a duplicate, and
   * ResourceExhaustedError when the buffer is full.
   */
  put(chunk: AllReduceChunk): void {
    if (chunk.job_id !== this.jobId) {
      throw new PreconditionError(
        `Chunk for job "${chunk.job_id}", this peer serves "${this.jobId}"`,
      );
    }
    const id = collectiveKey({
      ringVersion: chunk.ring_version,
      step: chunk.step,
      bucket: chunk.bucket,
    });
    if (this.#closed.has(id)) {
      throw new PreconditionError(
        `Collective "${id}" (ring/step/bucket) is already finished or aborted`,
      );
    }
    const key = `${id}/${chunk.phase}/${chunk.round}/${chunk.chunk_index}`;
    const waiter = this.#waiters.get(key);
    if (waiter) {
      this.#waiters.delete(key);
      waiter.resolve(chunk);
      return;
    }
    if (this.#chunks.has(key)) throw new PreconditionError(`Duplicate chunk "${key}"`);
    if (this.#bufferedBytes + chunk.payload.length > this.maxBufferedBytes) {
      throw new ResourceExhaustedError(
        `Peer mailbox full: ${this.#bufferedBytes} bytes buffered, limit ${this.maxBufferedBytes}`,
      );
    }
    this.#chunks.set(key, chunk);
    this.#bufferedBytes += chunk.payload.length;
  }

  /**
   * Waits for the chunk at `slot` of collective `id`: rejects after `timeoutMs`, when `signal`
   * aborts, or when the collective is failed with {@linkcode fail}.
   */
  take(
    id: CollectiveId,
    slot: ChunkSlot,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<AllReduceChunk> {
    const cid = collectiveKey(id);
    const key = `${cid}/${slot.phase}/${slot.round}/${slot.chunkIndex}`;
    const ready = this.#chunks.get(key);
    if (ready) {
      this.#chunks.delete(key);
      this.#bufferedBytes -= ready.payload.length;
      return Promise.resolve(ready);
    }
    const failure = this.#failed.get(cid) ?? (signal?.aborted ? abortReason(signal) : undefined);
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#waiters.delete(key);
      };
      const onAbort = () => {
        done();
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new ChunkTimeoutError(`No chunk "${key}" from the left neighbour within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.set(key, {
        resolve: (c) => {
          done();
          resolve(c);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
    });
  }

  /** Fails every present and future wait of collective `id` with `err` (e.g. the sender quit). */
  fail(id: CollectiveId, err: Error): void {
    const cid = collectiveKey(id);
    if (this.#closed.has(cid) || this.#failed.has(cid)) return;
    this.#failed.set(cid, err);
    for (const [key, waiter] of this.#waiters) {
      if (key.startsWith(`${cid}/`)) waiter.reject(err);
    }
  }

  /**
   * Fails every collective of ring version `ringVersion` that someone is waiting on now: the left
   * neighbour's connection is gone, so none of their chunks will come.
   */
  failWaiting(ringVersion: number, err: Error): void {
    const ids = new Set<string>();
    for (const key of this.#waiters.keys()) {
      if (key.startsWith(`${ringVersion}/`)) ids.add(key.split("/").slice(0, 3).join("/"));
    }
    for (const id of ids) {
      const [rv, step, bucket] = id.split("/").map(Number);
      this.fail({ ringVersion: rv, step, bucket }, err);
    }
  }

  /**
   * Drops what is left of collective `id` (handing the payloads back, which frees a shared slot)
   * and refuses its late chunks from now on.
   */
  close(id: CollectiveId): void {
    const cid = collectiveKey(id);
    for (const [key, chunk] of this.#chunks) {
      if (key.startsWith(`${cid}/`)) {
        this.#chunks.delete(key);
        this.#bufferedBytes -= chunk.payload.length;
        payloadPool.release(chunk.payload);
      }
    }
    this.#failed.delete(cid);
    this.#closed.add(cid);
    if (this.#closed.size > CLOSED_MEMORY) {
      this.#closed.delete(this.#closed.values().next().value!);
    }
  }

  /** Whether collective `id` was closed (finished or aborted). */
  isClosed(id: CollectiveId): boolean {
    return this.#closed.has(collectiveKey(id));
  }
}

function collectiveKey(id: CollectiveId): string {
  return `${id.ringVersion}/${id.step}/${id.bucket}`;
}

function abortReason(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error) return r;
  return new DOMException(String(r ?? "The all-reduce was aborted"), "AbortError");
}
