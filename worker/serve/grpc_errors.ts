/**
 * The one place where the server's errors become gRPC statuses: InputError (and undecodable
 * requests) → INVALID_ARGUMENT naming the field, QueueFullError → RESOURCE_EXHAUSTED,
 * UnauthenticatedError → UNAUTHENTICATED, anything else → INTERNAL.
 */
import * as grpc from "@grpc/grpc-js";
import { InputError } from "../../model/errors.ts";
import { QueueFullError } from "./scheduler.ts";

/** The caller did not present the server's API key. */
export class UnauthenticatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnauthenticatedError";
  }
}

/** A status ready for a unary callback or a stream's `error` event. */
export type GrpcError = Partial<grpc.StatusObject> & Error & { code: grpc.status };

/** Maps a thrown value to its status and message. */
export function toGrpcError(err: unknown): GrpcError {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof InputError
    ? grpc.status.INVALID_ARGUMENT
    : err instanceof QueueFullError
    ? grpc.status.RESOURCE_EXHAUSTED
    : err instanceof UnauthenticatedError
    ? grpc.status.UNAUTHENTICATED
    : grpc.status.INTERNAL;
  const out = new Error(code === grpc.status.INTERNAL ? `Internal error: ${message}` : message);
  return Object.assign(out, { code, details: out.message });
}
