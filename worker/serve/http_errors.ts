/**
 * The one place where errors become HTTP answers, in OpenAI's shape:
 * `{"error": {"message", "type", "param", "code"}}`. Domain errors are first classified as gRPC
 * statuses (`toGrpcError`), so both transports refuse a request for the same reason, and the status
 * maps to HTTP as google.rpc's table does: INVALID_ARGUMENT 400, UNAUTHENTICATED 401,
 * PERMISSION_DENIED 403, NOT_FOUND 404, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, anything else
 * 500. A body over the size limit (413) and an unknown route or model (404) are
 * {@linkcode HttpError}s raised by the HTTP layer.
 */
import * as grpc from "@grpc/grpc-js";
import { InputError } from "../../model/errors.ts";
import { toGrpcError } from "../../proto/mod.ts";
import { ContextLengthError } from "./scheduler.ts";

/** An error only HTTP has: a route, a model or a body size. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** OpenAI's error body. */
export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error as HTTP answers it, and its gRPC status name (for the errors-by-code metric). */
export interface HttpAnswer {
  status: number;
  body: OpenAiError;
  grpcCode: string;
}

const byStatus: Partial<Record<grpc.status, [number, string, string]>> = {
  [grpc.status.INVALID_ARGUMENT]: [400, "invalid_request_error", "invalid_value"],
  [grpc.status.FAILED_PRECONDITION]: [400, "invalid_request_error", "failed_precondition"],
  [grpc.status.UNAUTHENTICATED]: [401, "invalid_request_error", "invalid_api_key"],
  [grpc.status.PERMISSION_DENIED]: [403, "invalid_request_error", "permission_denied"],
  [grpc.status.NOT_FOUND]: [404, "invalid_request_error", "not_found"],
  [grpc.status.RESOURCE_EXHAUSTED]: [429, "rate_limit_error", "queue_full"],
  [grpc.status.UNAVAILABLE]: [503, "server_error", "unavailable"],
  [grpc.status.DEADLINE_EXCEEDED]: [504, "server_error", "timeout"],
};

/**
 * The gRPC status an HTTP-only error counts as: `byStatus` read backwards (for 400 the first there,
 * INVALID_ARGUMENT, as integer keys come in ascending order), and for a body over the limit what
 * gRPC answers a message over its own.
 */
const grpcCodeByHttpStatus = new Map<number, string>([[413, "RESOURCE_EXHAUSTED"]]);
for (const [code, [http]] of Object.entries(byStatus)) {
  if (!grpcCodeByHttpStatus.has(http)) grpcCodeByHttpStatus.set(http, grpc.status[Number(code)]);
}

/** Maps a thrown value to the HTTP answer. */
export function toHttpError(err: unknown): HttpAnswer {
  if (err instanceof HttpError) {
    const type = err.status >= 500 ? "server_error" : "invalid_request_error";
    const grpcCode = grpcCodeByHttpStatus.get(err.status) ??
      (err.status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT");
    return {
      status: err.status,
      body: { error: { message: err.message, type, param: err.param, code: err.code } },
      grpcCode,
    };
  }
  const { code, details } = toGrpcError(err);
  const [status, type, errorCode] = byStatus[code] ?? [500, "server_error", "internal_error"];
  return {
    status,
    body: {
      error: {
        message: details,
        type,
        param: err instanceof InputError ? err.where : null,
        code: err instanceof ContextLengthError ? "context_length_exceeded" : errorCode,
      },
    },
    grpcCode: grpc.status[code],
  };
}

/** The JSON response for `answer`. */
export function errorResponse(answer: HttpAnswer): Response {
  return Response.json(answer.body, { status: answer.status });
}
