/**
 * The one place where errors become gRPC statuses. Handlers validate, call domain code, and pass
 * whatever it throws to {@linkcode toGrpcError}.
 */
import * as grpc from "@grpc/grpc-js";
import { z } from "zod";
import { InputError } from "../model/errors.ts";

/** The caller did not present the job's token (or presented a wrong one). */
export class UnauthenticatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnauthenticatedError";
  }
}

/** The request is well formed but does not fit the server's state (wrong job, wrong ring). */
export class PreconditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreconditionError";
  }
}

/** The thing the request names (a file, a model) does not exist on this server. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

/** The server cannot hold more (buffers full); the caller may retry later. */
export class ResourceExhaustedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResourceExhaustedError";
  }
}

/** A peer or service the request needs is gone or not ready; the caller may retry. */
export class UnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnavailableError";
  }
}

/** A gRPC status with a message, ready for a handler's callback or `call.destroy`. */
export type GrpcError = grpc.ServerErrorResponse & { code: grpc.status; details: string };

/**
 * Maps a thrown value to a gRPC status with a message:
 * InputError and ZodError → INVALID_ARGUMENT, UnauthenticatedError → UNAUTHENTICATED,
 * PreconditionError → FAILED_PRECONDITION, NotFoundError → NOT_FOUND,
 * ResourceExhaustedError → RESOURCE_EXHAUSTED,
 * UnavailableError → UNAVAILABLE, AbortError → CANCELLED, TimeoutError → DEADLINE_EXCEEDED,
 * anything else → INTERNAL.
 */
export function toGrpcError(err: unknown): GrpcError {
  const [code, details] = classify(err);
  const out = new Error(details) as GrpcError;
  out.code = code;
  out.details = details;
  return out;
}

function classify(err: unknown): [grpc.status, string] {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof z.ZodError) {
    return [grpc.status.INVALID_ARGUMENT, `Invalid request: ${z.prettifyError(err)}`];
  }
  if (err instanceof InputError) return [grpc.status.INVALID_ARGUMENT, message];
  if (err instanceof UnauthenticatedError) return [grpc.status.UNAUTHENTICATED, message];
  if (err instanceof PreconditionError) return [grpc.status.FAILED_PRECONDITION, message];
  if (err instanceof NotFoundError) return [grpc.status.NOT_FOUND, message];
  if (err instanceof ResourceExhaustedError) return [grpc.status.RESOURCE_EXHAUSTED, message];
  if (err instanceof UnavailableError) return [grpc.status.UNAVAILABLE, message];
  if (err instanceof Error && err.name === "AbortError") return [grpc.status.CANCELLED, message];
  if (err instanceof Error && err.name === "TimeoutError") {
    return [grpc.status.DEADLINE_EXCEEDED, message];
  }
  return [grpc.status.INTERNAL, `Internal error: ${message}`];
}
