/**
 * `proto/`: the job's gRPC schemas and the small kit every service builds on: loading `.proto`
 * files into grpc-js service definitions (protobufjs (de)serializers), size limits, TLS and token
 * credentials, zod validation at the edge, the one error-to-status mapping, and how a `StepPlan`'s
 * ring fields place ranks on a two-level ring (`twoLevelPlaces`).
 *
 * @example
 * ```ts
 * import { loadProtoFiles, protoPath, serviceDefinition } from "../proto/mod.ts";
 * const root = loadProtoFiles([protoPath("peer.proto")]);
 * const peer = serviceDefinition(root, "denoformer.v1.Peer");
 * ```
 */
export {
  loadProtoFiles,
  messageCodec,
  protoPath,
  serviceDefinition,
  UndecodableMessage,
} from "./load.ts";
export type { MessageCodec } from "./load.ts";
export { bindServer } from "./bind.ts";
export {
  channelOptions,
  type ConnectionLimits,
  connectionLimits,
  MAX_CHUNK_BYTES,
  MAX_MESSAGE_BYTES,
} from "./limits.ts";
export {
  channelCredentials,
  checkToken,
  clientChannelOptions,
  serverCredentials,
  TlsFiles,
  tlsFlags,
  tokenMetadata,
} from "./credentials.ts";
export { tokensEqual } from "../model/secrets.ts";
export {
  NotFoundError,
  PreconditionError,
  ResourceExhaustedError,
  toGrpcError,
  UnauthenticatedError,
  UnavailableError,
} from "./grpc_error.ts";
export type { GrpcError } from "./grpc_error.ts";
export { parseMessage } from "./validate.ts";
export {
  AllReduceChunk,
  BYTES_PER_ELEMENT,
  DataPlaneHello,
  peerCodecs,
  peerService,
  RingPhase,
  WireDtype,
} from "./peer.ts";
export { coordinatorService, type StepPlan, type Verdict } from "./coordinator.ts";
export { generationRoot, generationService, healthService } from "./generation.ts";
export { type TwoLevelPlace, twoLevelPlaces } from "./ring_layout.ts";
