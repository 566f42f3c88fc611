/** The coordinator service of `coordinator.proto` as a grpc-js service definition. */
import { loadProtoFiles, protoPath, serviceDefinition } from "./load.ts";

const root = loadProtoFiles([protoPath("coordinator.proto")]);

/** grpc-js definition of `denoformer.v1.Coordinator`. */
export const coordinatorService = serviceDefinition(root, "denoformer.v1.Coordinator");

/** `StepPlan` as the coordinator sends it and a worker reads it. */
export interface StepPlan {
  done: boolean;
  step: number;
  data_position: number;
  rank: number;
  world_size: number;
  ring_version: number;
  right_address: string;
  load_state: boolean;
  report_hash: boolean;
  evaluate: boolean;
  upload_state: boolean;
  error: string;
  /** Two-level ring (0: flat): see `StepPlan` in coordinator.proto. */
  local_size: number;
  local_index: number;
  local_peers: string[];
  host_rank: number;
  host_count: number;
}

/** `Verdict`: the answer to a rank's report: apply the update or not, and whether to upload the state after. */
export interface Verdict {
  commit: boolean;
  upload_state: boolean;
}
