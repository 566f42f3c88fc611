/**
 * gRPC server reflection (v1 and v1alpha) through `@grpc/reflection`, so grpcurl and similar tools
 * list and call our services without the .proto files.
 */
import type * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import type protobuf from "protobufjs";

/** Adds the reflection services describing every service in `root` to `server`. */
export function addReflection(server: grpc.Server, root: protobuf.Root): void {
  const definition = protoLoader.fromJSON(root.toJSON(), { keepCase: true });
  new ReflectionService(definition).addToServer(server as never);
}
