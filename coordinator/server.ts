/**
 * The Coordinator gRPC service: thin handlers that check the job token, validate the request with
 * zod, call the {@linkcode Job} and map errors to status codes in one place.
 */
import * as grpc from "@grpc/grpc-js";
import { z } from "zod";
import {
  bindServer,
  channelOptions,
  checkToken,
  coordinatorService,
  parseMessage,
  PreconditionError,
  type TlsFiles,
  toGrpcError,
} from "../proto/mod.ts";
import type { Logger } from "../model/log.ts";
import { Job, UnknownWorkerError } from "./job.ts";
import { concatBytes } from "../model/bytes.ts";

const CHUNK_BYTES = 1 << 20;

const WorkerId = z.string().min(1).max(200);
const JoinRequest = z.object({
  name: z.string().max(200),
  peer_address: z.string().min(3).max(300),
  tcp_address: z.string().max(300),
  device: z.string(),
});
const HeartbeatRequest = z.object({ worker_id: WorkerId });
const StepStats = z.object({
  step: z.number().int().nonnegative(),
  compute_seconds: z.number().nonnegative(),
  allreduce_seconds: z.number().nonnegative(),
  allreduce_bytes: z.number().int().nonnegative(),
  idle_seconds: z.number().nonnegative(),
  lr: z.number(),
  loss_scale: z.number(),
}).transform((s) => ({
  step: s.step,
  computeSeconds: s.compute_seconds,
  allReduceSeconds: s.allreduce_seconds,
  allReduceBytes: s.allreduce_bytes,
  idleSeconds: s.idle_seconds,
  lr: s.lr,
  lossScale: s.loss_scale,
}));
const AwaitStepRequest = z.object({
  worker_id: WorkerId,
  have_step: z.number().int().min(-1),
  weights_hash: z.string().max(128),
  val_loss: z.number(),
  last_step: StepStats.nullish(),
});
const ReducedReport = z.object({
  worker_id: WorkerId,
  step: z.number().int().nonnegative(),
  ring_version: z.number().int().nonnegative(),
  ok: z.boolean(),
  loss: z.number(),
  error: z.string(),
});
const ShardRequest = z.object({ worker_id: WorkerId, file: z.string().min(1) });
const StateRequest = z.object({ worker_id: WorkerId });
const StateUpload = z.object({
  worker_id: WorkerId,
  step: z.number().int().nonnegative(),
  data: z.instanceof(Uint8Array),
});

/** What the service serves besides the job itself. */
export interface CoordinatorServiceOptions {
  job: Job;
  token: string;
  jobJson: string;
  manifestJson: string;
  /** Files workers may fetch, by the name the manifest uses (shards and the tokenizer). */
  files: Map<string, string>;
  heartbeatMs: number;
  /** Which of a worker's peer addresses its ring neighbour dials. */
  transport: "tcp" | "grpc";
  log: Logger;
}

/** Starts the server on `host:port` (0 picks a free port); resolves with the bound port. */
export async function startCoordinatorServer(
  o: CoordinatorServiceOptions,
  host: string,
  port: number,
  tls?: TlsFiles,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(channelOptions);
  server.addService(coordinatorService, handlers(o));
  return { server, port: await bindServer(server, host, port, tls) };
}

type Unary = grpc.handleUnaryCall<unknown, unknown>;

function unary(
  o: CoordinatorServiceOptions,
  name: string,
  body: (req: unknown) => Promise<unknown> | unknown,
): Unary {
  return async (call, callback) => {
    try {
      checkToken(call.metadata, o.token);
      callback(null, await body(call.request));
    } catch (err) {
      if (!(err instanceof UnknownWorkerError)) {
        o.log.warn("request refused", { rpc: name, error: String(err) });
      }
      callback(
        toGrpcError(err instanceof UnknownWorkerError ? new PreconditionError(err.message) : err),
      );
    }
  };
}

function handlers(o: CoordinatorServiceOptions): grpc.UntypedServiceImplementation {
  const { job } = o;
  return {
    Join: unary(o, "Join", (r) => {
      const req = parseMessage(JoinRequest, r, "JoinRequest");
      const id = job.join(
        req.name || "worker",
        o.transport === "tcp" ? req.tcp_address : req.peer_address,
        req.device,
      );
      return {
        worker_id: id,
        job_json: o.jobJson,
        manifest_json: o.manifestJson,
        heartbeat_ms: o.heartbeatMs,
      };
    }),
    Heartbeat: unary(o, "Heartbeat", (r) => {
      const req = parseMessage(HeartbeatRequest, r, "HeartbeatRequest");
      return { ring_version: job.heartbeat(req.worker_id) };
    }),
    AwaitStep: unary(o, "AwaitStep", (r) => {
      const req = parseMessage(AwaitStepRequest, r, "AwaitStepRequest");
      return job.awaitStep(
        req.worker_id,
        req.have_step,
        req.weights_hash,
        req.val_loss,
        req.last_step ?? undefined,
      );
    }),
    ReportReduced: unary(o, "ReportReduced", (r) => {
      const req = parseMessage(ReducedReport, r, "ReducedReport");
      return job.reportReduced(
        req.worker_id,
        req.step,
        req.ring_version,
        req.ok,
        req.loss,
        req.error,
      );
    }),
    FetchShard: serverStream(o, "FetchShard", async (r) => {
      const req = parseMessage(ShardRequest, r, "ShardRequest");
      job.heartbeat(req.worker_id);
      const path = o.files.get(req.file);
      if (!path) throw new PreconditionError(`No data file named "${req.file}" in this job`);
      return await Deno.readFile(path);
    }),
    FetchState: serverStream(o, "FetchState", (r) => {
      const req = parseMessage(StateRequest, r, "StateRequest");
      job.heartbeat(req.worker_id);
      if (!job.state) throw new PreconditionError("No training state has been uploaded yet");
      return job.state.bytes;
    }),
    UploadState: (
      call: grpc.ServerReadableStream<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const parts: Uint8Array[] = [];
      let worker = "", step = -1;
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        callback(toGrpcError(err));
      };
      try {
        checkToken(call.metadata, o.token);
      } catch (err) {
        return fail(err);
      }
      call.on("data", (m: unknown) => {
        try {
          const msg = parseMessage(StateUpload, m, "StateUpload");
          worker = msg.worker_id;
          step = msg.step;
          parts.push(msg.data.slice());
        } catch (err) {
          fail(err);
          call.destroy();
        }
      });
      call.on("end", async () => {
        if (failed) return;
        try {
          job.heartbeat(worker);
          await job.uploadState(step, concatBytes(parts));
          callback(null, {});
        } catch (err) {
          fail(err);
        }
      });
      call.on("error", fail);
    },
  };
}

/** A server-streaming handler that sends `bytes` in chunks. */
function serverStream(
  o: CoordinatorServiceOptions,
  name: string,
  body: (req: unknown) => Promise<Uint8Array> | Uint8Array,
): grpc.handleServerStreamingCall<unknown, unknown> {
  return async (call) => {
    try {
      checkToken(call.metadata, o.token);
      const bytes = await body(call.request);
      for (let at = 0; at < bytes.length && !call.cancelled; at += CHUNK_BYTES) {
        const chunk = bytes.subarray(at, at + CHUNK_BYTES);
        if (!call.write({ data: chunk })) await new Promise((r) => call.once("drain", r));
      }
      call.end();
    } catch (err) {
      o.log.warn("request refused", { rpc: name, error: String(err) });
      call.destroy(
        toGrpcError(err instanceof UnknownWorkerError ? new PreconditionError(err.message) : err),
      );
    }
  };
}
