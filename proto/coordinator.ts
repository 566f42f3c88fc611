/** The coordinator service of `coordinator.proto` as a grpc-js service definition. */
import { loadProtoFiles, protoPath, serviceDefinition } from "./load.ts";

const root = loadProtoFiles([protoPath("coordinator.proto")]);

/** grpc-js definition of `denoformer.v1.Coordinator`. */
export const coordinatorService = serviceDefinition(root, "denoformer.v1.Coordinator");
