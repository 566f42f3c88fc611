/**
 * Message size limits, set deliberately rather than left at gRPC's 4 MiB default. Large payloads
 * (gradients, shards, checkpoints) travel as chunks no larger than {@linkcode MAX_CHUNK_BYTES}.
 */

/** The largest payload one chunk message may carry: 2 MiB. */
export const MAX_CHUNK_BYTES = 2 * 1024 * 1024;

/** Room for a chunk's header fields on top of its payload. */
const HEADER_ROOM_BYTES = 64 * 1024;

/** The most bytes one gRPC message may have, in either direction. */
export const MAX_MESSAGE_BYTES = MAX_CHUNK_BYTES + HEADER_ROOM_BYTES;

/** What one server accepts from the network, whoever connects. */
export interface ConnectionLimits {
  /**
   * How long a new connection may take to finish its TLS and HTTP/2 handshakes (the client's
   * SETTINGS arrived) before it is closed. Without it, a client that connects and stops holds its
   * connection, and a file descriptor, forever.
   */
  handshakeTimeoutMs: number;
  /** Open connections at once; more are closed as they arrive, before any handshake. */
  maxConnections: number;
}

/**
 * Limits every server of ours binds with: room for a few hundred workers (two channels each) or
 * clients, well under the usual 1024 file descriptors of a process, and a handshake timeout far
 * above a TLS handshake over a slow link.
 */
export const connectionLimits: ConnectionLimits = {
  handshakeTimeoutMs: 10_000,
  maxConnections: 900,
};

/**
 * Channel options every server and client of the job uses: explicit message limits, and
 * keepalive pings rare enough that servers do not punish them (liveness comes from deadlines and
 * heartbeats, not from the transport; see docs/allreduce.md).
 */
export const channelOptions: Record<string, number> = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  "grpc.keepalive_time_ms": 60_000,
  "grpc.keepalive_timeout_ms": 20_000,
  "grpc.keepalive_permit_without_calls": 0,
  "grpc.http2.min_ping_interval_without_data_ms": 30_000,
};
