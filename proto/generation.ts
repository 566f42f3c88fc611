/** The generation API of `generate.proto` and the standard health service, as grpc-js definitions. */
import { loadProtoFiles, protoPath, serviceDefinition } from "./load.ts";

/** Both schemas in one protobufjs Root (server reflection describes it). */
export const generationRoot = loadProtoFiles([
  protoPath("generate.proto"),
  protoPath("health.proto"),
]);

/** grpc-js definition of `denoformer.v1.Generation`. */
export const generationService = serviceDefinition(generationRoot, "denoformer.v1.Generation");

/** grpc-js definition of `grpc.health.v1.Health`. */
export const healthService = serviceDefinition(generationRoot, "grpc.health.v1.Health");
