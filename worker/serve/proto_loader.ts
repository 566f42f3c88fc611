/**
 * `.proto` text to @grpc/grpc-js service definitions, with protobufjs doing the (de)serializing:
 * the approach of `proto/load.ts` on the distributed branch, kept here until the two are unified.
 * Messages cross the edge as plain objects with the .proto's field names, enums as names, 64-bit
 * integers as numbers, absent fields as zeros (absent `optional` fields stay absent).
 */
import type * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";

/** The `denoformer.v1` generation API and the standard health service, in one protobufjs Root. */
export function loadGenerationProtos(): protobuf.Root {
  const root = new protobuf.Root();
  const path = fileURLToPath(new URL("../../proto/generate.proto", import.meta.url));
  protobuf.parse(Deno.readTextFileSync(path), root, { keepCase: true });
  protobuf.parse(HEALTH_PROTO, root, { keepCase: true });
  root.resolveAll();
  return root;
}

/** grpc.health.v1 as published by the gRPC project (health/v1/health.proto). */
const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}`;

const toObjectOptions: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

/** Marks a request whose bytes did not decode; validation refuses it as INVALID_ARGUMENT. */
export class UndecodableMessage {
  constructor(readonly reason: string) {}
}

/** The grpc-js definition of service `fullName`, one entry per rpc under its .proto name. */
export function serviceDefinition(root: protobuf.Root, fullName: string): grpc.ServiceDefinition {
  const service = root.lookupService(fullName);
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const request = method.resolvedRequestType!, response = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: method.requestStream ?? false,
      responseStream: method.responseStream ?? false,
      requestSerialize: encoder(request),
      requestDeserialize: (bytes: Buffer) => {
        try {
          return request.toObject(request.decode(bytes), toObjectOptions);
        } catch (err) {
          return new UndecodableMessage(String(err));
        }
      },
      responseSerialize: encoder(response),
      responseDeserialize: (bytes: Buffer) =>
        response.toObject(response.decode(bytes), toObjectOptions),
      originalName: method.name,
    };
  }
  return definition as grpc.ServiceDefinition;
}

function encoder(type: protobuf.Type): (message: unknown) => Buffer {
  return (message) => {
    const bytes = type.encode(type.fromObject(message as Record<string, unknown>)).finish();
    return Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  };
}
