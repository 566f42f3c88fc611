/**
 * `worker/`: what a training worker runs. So far the transport of gradient all-reduce: the peer
 * server each worker hosts, the client to its right neighbour, and `ringAllReduce`.
 *
 * @example
 * ```ts
 * const mailbox = new ChunkMailbox("job-1");
 * const server = await startPeerServer({ host: "127.0.0.1", port: 0, token, mailbox });
 * const right = new PeerClient(rightAddress, { token });
 * const ring = { jobId: "job-1", ringVersion: 0, rank, worldSize, mailbox, right };
 * await ringAllReduce(grads, ring, { step, op: "mean", wire: "bf16" });
 * ```
 */
export { ChunkMailbox, ChunkTimeoutError } from "./chunk_mailbox.ts";
export type { ChunkSlot, CollectiveId } from "./chunk_mailbox.ts";
export { startPeerServer } from "./peer_server.ts";
export type { PeerServer, PeerServerOptions } from "./peer_server.ts";
export { ChunkStream, PeerClient } from "./peer_client.ts";
export type { ChunkSink, ChunkStreamOptions, ChunkWriter, OutgoingChunk } from "./chunk_sink.ts";
export {
  AllReduceError,
  AllReduceOptions,
  ringAllReduce,
  SegmentLayout,
} from "./ring_allreduce.ts";
export type { AllReduceStats, Ring } from "./ring_allreduce.ts";
export {
  accumulateWire,
  bf16ToF32,
  copyWire,
  encodeWire,
  f32ToBf16,
  roundToWire,
  WIRE_BYTES,
  WireFormat,
} from "./wire_dtype.ts";
export { startTcpPeerServer, TcpPeerClient } from "./tcp_peer.ts";
export type { TcpPeerServer } from "./tcp_peer.ts";
export { ProbeProcess, ProbeRing, spawnProbeRing } from "./local_ring.ts";
export { probeInput, ProbePattern, probeValue, Transport } from "./allreduce_main.ts";
