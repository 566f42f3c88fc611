/**
 * `worker/collective/`: gradient all-reduce between training workers. `ringAllReduce` runs a
 * reduce-scatter then an all-gather around the ring; it sends through a `ChunkSink` to the right
 * neighbour and takes from the `ChunkMailbox` its own server fills. Three transports carry the
 * chunks: `grpc/` (the peer service), `tcp/` (the data plane) and `shm/` (shared-memory slots
 * between neighbours on one host, negotiated over the TCP plane). `hierarchicalAllReduce` adds a
 * level for several ranks a host (reduce to the host's leader, the leaders' ring, broadcast back),
 * and `reduceBuffer` lets either reduce fp16 gradients as they are. `probe/` runs rings of real
 * processes for tests and benchmarks, on 127.0.0.1 or in emulated hosts (network namespaces with
 * shaped links); `scaling_model.ts` predicts step time on many hosts.
 *
 * @example
 * ```ts
 * const mailbox = new ChunkMailbox("job-1");
 * const server = startTcpPeerServer({ host: "127.0.0.1", port: 0, token, mailbox });
 * const right = new TcpPeerClient(rightAddress, { jobId: "job-1", token, rank, sharedMemory: true });
 * const ring = { jobId: "job-1", ringVersion: 0, rank, worldSize, mailbox, right };
 * await ringAllReduce(grads, ring, { step, op: "mean" });
 * ```
 */
export { ChunkMailbox, ChunkTimeoutError } from "./chunk_mailbox.ts";
export type { ChunkSlot, CollectiveId } from "./chunk_mailbox.ts";
export { startPeerServer } from "./grpc/peer_server.ts";
export type { PeerServer, PeerServerOptions } from "./grpc/peer_server.ts";
export { ChunkStream, PeerClient } from "./grpc/peer_client.ts";
export type { ChunkSink, ChunkStreamOptions, ChunkWriter, OutgoingChunk } from "./chunk_sink.ts";
export { AllReduceError, AllReduceOptions, ringAllReduce } from "./ring_allreduce.ts";
export { RingSchedule, SegmentLayout } from "./ring_schedule.ts";
export type { RingStep } from "./ring_schedule.ts";
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
export { startTcpPeerServer } from "./tcp/peer_server.ts";
export { TcpPeerClient } from "./tcp/peer_client.ts";
export { sharedMemoryAvailable } from "./shm/shared_memory.ts";
export { sharedFloat16Array, sharedFloat32Array } from "./shm/shm_slots.ts";
export type { TcpPeerServer } from "./tcp/peer_server.ts";
export { ProbeProcess, ProbeRing, spawnProbeRing } from "./probe/probe_ring.ts";
export type { ProbePlace, ProbeRingOptions } from "./probe/probe_ring.ts";
export { EmulatedHosts, emulatedHostsUnavailable, parseRate } from "./probe/emulated_hosts.ts";
export type { EmulatedHost, LinkShape } from "./probe/emulated_hosts.ts";
export { hierarchicalAllReduce } from "./hierarchical_allreduce.ts";
export type { HierarchicalRing, HostGroup } from "./hierarchical_allreduce.ts";
export { reduceBuffer } from "./reduce_buffer.ts";
export { allReduceSeconds, fitRingCosts, stepPrediction } from "./scaling_model.ts";
export type { AllReduceCase, RingCosts, StepCase } from "./scaling_model.ts";
export type { ReduceBuffer } from "./reduce_buffer.ts";
export { probeInput, ProbePattern, probeValue, Transport } from "./probe/protocol.ts";
