/**
 * Hierarchical all-reduce for several ranks per host (one per GPU), as NCCL and Horovod do it:
 * every rank on a host sends its buffer to the host's leader, which adds them (through shared
 * memory: the data plane reads a neighbour's registered buffer in place); the leaders run the ring
 * across hosts; each leader then sends the result back to the ranks on its host. Only the leaders'
 * ring crosses the network, so a host's link carries 2(H − 1)/H of the buffer for H hosts, whatever
 * the ranks per host, and the wire format (`wire`) applies there; inside a host payloads travel in
 * the buffer's own format.
 *
 * The leader adds its members in index order, so results do not depend on arrival order; the sum's
 * order differs from a flat ring's (exact for integers, within fp32 rounding otherwise). Failures
 * spread as in the ring: a rank that fails cancels its streams, and every wait has a deadline.
 *
 * @example
 * ```ts
 * await hierarchicalAllReduce(grads, { ...ids, mailbox, local: { index, size, peers }, hosts }, { step });
 * ```
 */
import type { AllReduceChunk, RingPhase } from "../../proto/mod.ts";
import { payloadPool } from "./buffer_pool.ts";
import type { ChunkMailbox, CollectiveId } from "./chunk_mailbox.ts";
import type { ChunkSink, ChunkWriter } from "./chunk_sink.ts";
import { type ReduceBuffer, reduceBuffer } from "./reduce_buffer.ts";
import {
  AllReduceError,
  AllReduceOptions,
  type AllReduceStats,
  followAbort,
  type Ring,
  ringAllReduce,
  WIRE_DTYPE,
} from "./ring_allreduce.ts";
import { SegmentLayout } from "./ring_schedule.ts";
import { WIRE_BYTES } from "./wire_dtype.ts";

/** The ranks on this rank's host. */
export interface HostGroup {
  /** This rank's index on the host; 0 is the leader. */
  index: number;
  /** Ranks on the host. */
  size: number;
  /**
   * A member's connection to its leader (`[leader]`); the leader's to each member, by index
   * (`peers[0]` unused).
   */
  peers: (ChunkSink | undefined)[];
}

/** This rank's place in a two-level ring. */
export interface HierarchicalRing {
  jobId: string;
  ringVersion: number;
  /** Rank and world size over all hosts. */
  rank: number;
  worldSize: number;
  mailbox: ChunkMailbox;
  local: HostGroup;
  /** The leaders' ring across hosts (rank = host index); undefined on members. */
  hosts: Ring | undefined;
}

/**
 * Sums (or averages) `buffer` in place over every rank of every host; every rank ends with
 * identical values. Rejects with {@linkcode AllReduceError} like {@linkcode ringAllReduce}.
 */
export async function hierarchicalAllReduce(
  buffer: Float32Array | Float16Array,
  ring: HierarchicalRing,
  options: AllReduceOptions & { signal?: AbortSignal },
): Promise<AllReduceStats> {
  const { signal, ...rest } = options;
  const opts = AllReduceOptions.parse(rest);
  const started = performance.now();
  const { local } = ring;
  const leader = local.index === 0;
  const elements = reduceBuffer(buffer, buffer instanceof Float16Array ? "fp16" : "fp32");
  const layout = new SegmentLayout(
    buffer.length,
    1,
    Math.floor(opts.chunkBytes / WIRE_BYTES[elements.wire]),
  );
  const id: CollectiveId = { ringVersion: ring.ringVersion, step: opts.step, bucket: opts.bucket };
  const deadline = Date.now() + opts.timeoutMs;
  const stage: Stage = {
    ring,
    elements,
    layout,
    id,
    deadline,
    chunkTimeoutMs: opts.chunkTimeoutMs,
    window: opts.window,
    ...followAbort(signal),
    streams: [],
    stats: { ms: 0, chunksSent: 0, bytesSent: 0 },
  };
  try {
    if (leader) {
      await gather(stage);
      if (ring.hosts && ring.hosts.worldSize > 1) {
        const across = await ringAllReduce(buffer, ring.hosts, {
          ...opts,
          op: "sum",
          wire: buffer instanceof Float16Array ? "fp16" : opts.wire,
          timeoutMs: Math.max(1, deadline - Date.now()),
          signal: stage.stop.signal,
        });
        stage.stats.chunksSent += across.chunksSent;
        stage.stats.bytesSent += across.bytesSent;
      }
      elements.finish(0, buffer.length, opts.op === "mean" ? ring.worldSize : 1);
      await broadcast(stage);
    } else {
      await sendAll(stage, local.peers[0], "RING_PHASE_LOCAL_REDUCE", local.index - 1);
      await receiveAll(stage);
    }
    for (const stream of stage.streams) await stream.finish(waitMs(stage), stage.stop.signal);
  } catch (err) {
    const failed = stage.streams.find((s) => s.error)?.error ?? err;
    // A leader that fails before its broadcast drops its members' connections too, so they learn
    // now rather than at a deadline.
    if (leader && stage.streams.length === 0) local.peers.slice(1).forEach((p) => open(stage, p));
    for (const stream of stage.streams) stream.cancel();
    // The leaders' ring names its own ranks; this error names the rank over all hosts.
    const cause = failed instanceof AllReduceError ? failed.cause : failed;
    throw new AllReduceError(ring.rank, ring.worldSize, opts.step, cause);
  } finally {
    stage.unlink();
    ring.mailbox.close(id);
  }
  stage.stats.ms = performance.now() - started;
  return stage.stats;
}

/** One rank's share of a hierarchical all-reduce in progress. */
interface Stage {
  ring: HierarchicalRing;
  elements: ReduceBuffer;
  layout: SegmentLayout;
  id: CollectiveId;
  deadline: number;
  chunkTimeoutMs: number;
  window: number;
  stop: AbortController;
  unlink(): void;
  /** Every stream this rank opened, to finish or cancel together. */
  streams: ChunkWriter[];
  stats: AllReduceStats;
}

function waitMs(s: Stage): number {
  return Math.max(1, Math.min(s.chunkTimeoutMs, s.deadline - Date.now()));
}

/** The leader adds every member's buffer into its own, chunk by chunk, members in index order. */
async function gather(s: Stage): Promise<void> {
  const { local } = s.ring;
  for (let c = 0; c < s.layout.chunkCount(0); c++) {
    const [start, end] = s.layout.chunk(0, c);
    for (let member = 1; member < local.size; member++) {
      const chunk = await take(s, "RING_PHASE_LOCAL_REDUCE", member - 1, c, end - start);
      s.elements.add(start, end, chunk.payload);
      payloadPool.release(chunk.payload);
    }
  }
}

/** The leader sends the finished buffer to each member, chunk by chunk. */
async function broadcast(s: Stage): Promise<void> {
  const { local } = s.ring;
  const streams = local.peers.slice(1).map((peer) => open(s, peer));
  for (let c = 0; c < s.layout.chunkCount(0); c++) {
    for (const stream of streams) await write(s, stream, "RING_PHASE_LOCAL_BROADCAST", 0, c);
  }
}

/** A member sends its whole buffer to `peer` (its leader). */
async function sendAll(
  s: Stage,
  peer: ChunkSink | undefined,
  phase: RingPhase,
  round: number,
): Promise<void> {
  const stream = open(s, peer);
  for (let c = 0; c < s.layout.chunkCount(0); c++) await write(s, stream, phase, round, c);
}

/** A member takes the finished buffer from its leader. */
async function receiveAll(s: Stage): Promise<void> {
  for (let c = 0; c < s.layout.chunkCount(0); c++) {
    const [start, end] = s.layout.chunk(0, c);
    const chunk = await take(s, "RING_PHASE_LOCAL_BROADCAST", 0, c, end - start);
    s.elements.copy(start, end, chunk.payload);
    payloadPool.release(chunk.payload);
  }
}

function open(s: Stage, peer: ChunkSink | undefined): ChunkWriter {
  if (!peer) {
    throw new Error(`Rank ${s.ring.rank} has no connection to a rank on its host`);
  }
  const stream = peer.openChunkStream({
    deadline: s.deadline,
    window: s.window,
    stallMs: s.chunkTimeoutMs,
    onError: (err) => s.stop.abort(err),
  });
  s.streams.push(stream);
  return stream;
}

async function write(
  s: Stage,
  stream: ChunkWriter,
  phase: RingPhase,
  round: number,
  c: number,
): Promise<void> {
  const [start, end] = s.layout.chunk(0, c);
  const payload = s.elements.encode(start, end);
  await stream.write({
    job_id: s.ring.jobId,
    ring_version: s.ring.ringVersion,
    step: s.id.step,
    bucket: s.id.bucket,
    phase,
    round,
    segment: 0,
    chunk_index: c,
    sender_rank: s.ring.rank,
    dtype: WIRE_DTYPE[s.elements.wire],
    element_count: end - start,
    payload,
  }, s.stop.signal);
  s.stats.chunksSent++;
  s.stats.bytesSent += payload.length;
}

/** Takes one chunk of this host's stage; throws (handing the payload back) if it does not fit. */
async function take(
  s: Stage,
  phase: RingPhase,
  round: number,
  c: number,
  elements: number,
): Promise<AllReduceChunk> {
  const chunk = await s.ring.mailbox.take(
    s.id,
    { phase, round, chunkIndex: c },
    waitMs(s),
    s.stop.signal,
  );
  const dtype = WIRE_DTYPE[s.elements.wire];
  if (chunk.dtype === dtype && chunk.element_count === elements) return chunk;
  payloadPool.release(chunk.payload);
  throw new Error(
    `Chunk ${c} of ${phase} does not fit: got ${chunk.element_count} ${chunk.dtype} from rank ` +
      `${chunk.sender_rank}; expected ${elements} ${dtype}`,
  );
}
