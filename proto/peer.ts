/**
 * The peer service of `peer.proto` as a grpc-js service definition, and the zod schema every
 * incoming chunk is validated against.
 */
import { z } from "zod";
import { loadProtoFiles, messageCodec, protoPath, serviceDefinition } from "./load.ts";
import { MAX_CHUNK_BYTES } from "./limits.ts";

const root = loadProtoFiles([protoPath("peer.proto")]);

/** grpc-js definition of `denoformer.v1.Peer`: `SendChunks` (client streaming). */
export const peerService = serviceDefinition(root, "denoformer.v1.Peer");

/** protobufjs codecs of the peer messages, for transports other than grpc-js. */
export const peerCodecs = {
  chunk: messageCodec(root, "denoformer.v1.AllReduceChunk"),
  hello: messageCodec(root, "denoformer.v1.DataPlaneHello"),
};

/** The first message on a TCP data-plane connection. */
export const DataPlaneHello = z.object({
  job_id: z.string().min(1).max(256),
  token: z.string().max(4096),
  sender_rank: z.number().int().min(0),
  shm_path: z.string().max(256).default(""),
  shm_nonce: z.instanceof(Uint8Array).default(new Uint8Array(0)),
  shm_slots: z.number().int().min(0).max(256).default(0),
  shm_slot_bytes: z.number().int().min(0).max(MAX_CHUNK_BYTES).default(0),
});
export type DataPlaneHello = z.infer<typeof DataPlaneHello>;

/** Wire dtypes as protobufjs names them in decoded messages. */
export const WireDtype = z.enum(["WIRE_DTYPE_FP32", "WIRE_DTYPE_FP16", "WIRE_DTYPE_BF16"]);
export type WireDtype = z.infer<typeof WireDtype>;

/** Ring phases as protobufjs names them in decoded messages. */
export const RingPhase = z.enum([
  "RING_PHASE_REDUCE_SCATTER",
  "RING_PHASE_ALL_GATHER",
  "RING_PHASE_LOCAL_REDUCE",
  "RING_PHASE_LOCAL_BROADCAST",
]);
export type RingPhase = z.infer<typeof RingPhase>;

/** Bytes per value of each wire dtype. */
export const BYTES_PER_ELEMENT: Record<WireDtype, number> = {
  WIRE_DTYPE_FP32: 4,
  WIRE_DTYPE_FP16: 2,
  WIRE_DTYPE_BF16: 2,
};

const u32 = z.number().int().min(0).max(0xffff_ffff);

/** One validated all-reduce chunk; the payload holds exactly `element_count` values of `dtype`. */
export const AllReduceChunk = z.object({
  job_id: z.string().min(1).max(256),
  ring_version: u32,
  step: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  bucket: u32,
  phase: RingPhase,
  round: u32,
  segment: u32,
  chunk_index: u32,
  sender_rank: u32,
  dtype: WireDtype,
  element_count: u32,
  payload: z.instanceof(Uint8Array).refine((p) => p.length <= MAX_CHUNK_BYTES, {
    message: `payload exceeds ${MAX_CHUNK_BYTES} bytes`,
  }),
}).refine((c) => c.payload.length === c.element_count * BYTES_PER_ELEMENT[c.dtype], {
  message: "payload length does not match element_count and dtype",
  path: ["payload"],
});
export type AllReduceChunk = z.infer<typeof AllReduceChunk>;
