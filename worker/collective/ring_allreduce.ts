/**
 * Ring all-reduce over the peer service: reduce-scatter, then all-gather, chunked and pipelined.
 *
 * The buffer is cut into `worldSize` segments (sizes differ by at most one element) and each
 * segment into chunks; `RingSchedule` says which segment each pipeline step sends and receives.
 * A chunk is forwarded as soon as it is reduced, so all rounds overlap (the pipeline), and several
 * chunks are in flight on the stream at once (`window`).
 *
 * It never hangs: the stream has a deadline, every wait for a chunk or for room on the stream has
 * `chunkTimeoutMs`, and `signal` aborts the step. On failure it cancels its stream (so the right
 * neighbour fails fast too) and throws {@linkcode AllReduceError}.
 *
 * @example
 * ```ts
 * await ringAllReduce(grads, ring, { step: 12, op: "mean", wire: "bf16", signal });
 * ```
 */
import { z } from "zod";
import type { AllReduceChunk } from "../../proto/mod.ts";
import { MAX_CHUNK_BYTES } from "../../proto/mod.ts";
import { payloadPool } from "./buffer_pool.ts";
import type { ChunkMailbox, CollectiveId } from "./chunk_mailbox.ts";
import type { ChunkSink, OutgoingChunk } from "./chunk_sink.ts";
import { RingSchedule, type RingStep, SegmentLayout } from "./ring_schedule.ts";
import { type ReduceBuffer, reduceBuffer } from "./reduce_buffer.ts";
import { WIRE_BYTES, WireFormat } from "./wire_dtype.ts";

/** How one all-reduce runs; defaults tuned on loopback (see docs/allreduce.md). */
export const AllReduceOptions = z.object({
  /** The step (or any id unique per collective within a ring version). */
  step: z.number().int().min(0),
  /** Distinguishes several all-reduces within one step. */
  bucket: z.number().int().min(0).default(0),
  /** `mean` divides the sum by the world size. */
  op: z.enum(["sum", "mean"]).default("sum"),
  /** Float format on the wire; accumulation is always fp32. */
  wire: WireFormat.default("fp32"),
  /** Payload bytes per chunk message. */
  chunkBytes: z.number().int().min(256).max(MAX_CHUNK_BYTES).default(MAX_CHUNK_BYTES),
  /** Chunks that may wait in the transport at once. */
  window: z.number().int().min(1).max(64).default(16),
  /** Deadline for the whole collective. */
  timeoutMs: z.number().int().positive().default(120_000),
  /** Longest wait for any one chunk, for room on the stream, or for the final acknowledgement. */
  chunkTimeoutMs: z.number().int().positive().default(10_000),
}).strict();
export type AllReduceOptions = z.input<typeof AllReduceOptions>;

/** This rank's place in the ring and its connections. */
export interface Ring {
  jobId: string;
  /** Bumped each time the ring re-forms. */
  ringVersion: number;
  rank: number;
  worldSize: number;
  /** Where the peer server files chunks from the left neighbour. */
  mailbox: ChunkMailbox;
  /**
   * Connection to the right neighbour, rank (rank + 1) mod worldSize (a gRPC `PeerClient` or a
   * `TcpPeerClient`); unused when worldSize is 1.
   */
  right: ChunkSink | undefined;
}

/** What one all-reduce did. */
export interface AllReduceStats {
  ms: number;
  chunksSent: number;
  bytesSent: number;
}

/** An all-reduce that failed on this rank; the step must be aborted on every rank. */
export class AllReduceError extends Error {
  readonly rank: number;
  readonly step: number;
  constructor(rank: number, worldSize: number, step: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`All-reduce of step ${step} failed on rank ${rank} of ${worldSize}: ${why}`, { cause });
    this.name = "AllReduceError";
    this.rank = rank;
    this.step = step;
  }
}

/**
 * Sums (or averages) `buffer` in place across the ring; every rank ends with identical values.
 * An fp16 buffer (gradients cast to fp16 in the train-step graph) travels as fp16 without
 * conversion; its `wire` defaults to fp16. Rejects with {@linkcode AllReduceError} when a peer
 * fails, a deadline passes or `signal` aborts.
 */
export async function ringAllReduce(
  buffer: Float32Array | Float16Array,
  ring: Ring,
  options: AllReduceOptions & { signal?: AbortSignal },
): Promise<AllReduceStats> {
  const { signal, ...rest } = options;
  const opts = AllReduceOptions.parse({
    ...rest,
    wire: rest.wire ?? (buffer instanceof Float16Array ? "fp16" : undefined),
  });
  const elements = reduceBuffer(buffer, opts.wire);
  const started = performance.now();
  const n = ring.worldSize;
  if (n === 1) return { ms: performance.now() - started, chunksSent: 0, bytesSent: 0 };
  if (!ring.right) throw new Error(`Ring of ${n} ranks needs a right neighbour`);

  const chunkElements = Math.floor(opts.chunkBytes / WIRE_BYTES[opts.wire]);
  const schedule = new RingSchedule(
    ring.rank,
    n,
    new SegmentLayout(buffer.length, n, chunkElements),
  );
  const layout = schedule.layout;
  const id: CollectiveId = { ringVersion: ring.ringVersion, step: opts.step, bucket: opts.bucket };
  const deadline = Date.now() + opts.timeoutMs;
  const waitMs = () => Math.max(1, Math.min(opts.chunkTimeoutMs, deadline - Date.now()));

  // One controller for the step: the caller's signal or a failed outgoing stream stop every wait.
  const { stop, unlink } = followAbort(signal);
  const stream = ring.right.openChunkStream({
    deadline,
    window: opts.window,
    stallMs: opts.chunkTimeoutMs,
    onError: (err) => stop.abort(err),
  });
  const stats: AllReduceStats = { ms: 0, chunksSent: 0, bytesSent: 0 };
  const send = async (t: number, c: number) => {
    const chunk = outgoingChunk(elements, ring, opts, schedule.sent(t), c, layout);
    await stream.write(chunk, stop.signal);
    stats.chunksSent++;
    stats.bytesSent += chunk.payload.length;
  };

  try {
    for (let c = 0; c < layout.chunkCount(schedule.sent(0).segment); c++) await send(0, c);
    for (let t = 0; t < schedule.steps; t++) {
      const step = schedule.received(t);
      for (let c = 0; c < layout.chunkCount(step.segment); c++) {
        const chunk = await ring.mailbox.take(
          id,
          { phase: step.phase, round: step.round, chunkIndex: c },
          waitMs(),
          stop.signal,
        );
        const [start, end] = layout.chunk(step.segment, c);
        checkFits(chunk, schedule.left, step, c, t, end - start, opts.wire);
        if (schedule.reduces(t)) elements.add(start, end, chunk.payload);
        else elements.copy(start, end, chunk.payload);
        payloadPool.release(chunk.payload);
        // Final on its owner now: scaled, and held exactly as the other ranks will decode it.
        if (schedule.completes(t)) elements.finish(start, end, opts.op === "mean" ? n : 1);
        if (t + 1 < schedule.steps) await send(t + 1, c);
      }
    }
    await stream.finish(waitMs(), stop.signal);
  } catch (err) {
    const cause = stream.error ?? err;
    stream.cancel();
    throw new AllReduceError(ring.rank, n, opts.step, cause);
  } finally {
    unlink();
    ring.mailbox.close(id);
  }
  stats.ms = performance.now() - started;
  return stats;
}

/** A controller that aborts when `signal` does, until `unlink` is called. */
export function followAbort(
  signal: AbortSignal | undefined,
): { stop: AbortController; unlink(): void } {
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();
  return { stop, unlink: () => signal?.removeEventListener("abort", onAbort) };
}

/**
 * Chunk `c` of what `sent` names, ready for the stream. A chunk already in its wire format travels
 * as a view of the buffer, not a copy: the transport may still be reading it when the ring loop
 * goes on, and that is safe because a region this rank sends is written again only with a value
 * its left neighbour derived from that send (the sum travels rightwards), so only after the send
 * has left. Converted chunks get a pooled array each, which the transport hands back once written.
 */
function outgoingChunk(
  elements: ReduceBuffer,
  ring: Ring,
  opts: z.output<typeof AllReduceOptions>,
  sent: RingStep,
  c: number,
  layout: SegmentLayout,
): OutgoingChunk {
  const [start, end] = layout.chunk(sent.segment, c);
  const payload = elements.encode(start, end);
  return {
    job_id: ring.jobId,
    ring_version: ring.ringVersion,
    step: opts.step,
    bucket: opts.bucket,
    phase: sent.phase,
    round: sent.round,
    segment: sent.segment,
    chunk_index: c,
    sender_rank: ring.rank,
    dtype: WIRE_DTYPE[opts.wire],
    element_count: end - start,
    payload,
  };
}

/** Throws (handing the payload back) unless `chunk` is the one pipeline step `t` expects. */
function checkFits(
  chunk: AllReduceChunk,
  left: number,
  step: RingStep,
  c: number,
  t: number,
  elements: number,
  wire: WireFormat,
): void {
  if (
    chunk.sender_rank === left && chunk.segment === step.segment &&
    chunk.dtype === WIRE_DTYPE[wire] && chunk.element_count === elements
  ) return;
  payloadPool.release(chunk.payload);
  throw new Error(
    `Chunk ${c} of round ${t} does not fit: got sender ${chunk.sender_rank}, segment ` +
      `${chunk.segment}, ${chunk.element_count} ${chunk.dtype}; expected sender ${left}, ` +
      `segment ${step.segment}, ${elements} ${WIRE_DTYPE[wire]}`,
  );
}

/** Each wire format's name in `AllReduceChunk.dtype`. */
export const WIRE_DTYPE = {
  fp32: "WIRE_DTYPE_FP32",
  fp16: "WIRE_DTYPE_FP16",
  bf16: "WIRE_DTYPE_BF16",
} as const;
