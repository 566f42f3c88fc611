/**
 * An inference server assembled: the engine for a served model, the continuously batched
 * scheduler, its metrics, and the gRPC service, with the HTTP API beside it when asked for. Both
 * transports share one scheduler, so their requests batch together under one set of limits.
 *
 * @example
 * ```ts
 * const served = await serveModel(await checkpointModel("runs/mine"), { host: "127.0.0.1", port: 0 });
 * console.log(served.port);
 * ```
 */
import type { TlsFiles } from "../../proto/mod.ts";
import { InferenceEngine } from "../../model/infer/mod.ts";
import type { Logger } from "../../model/log.ts";
import { silentLogger } from "../../model/log.ts";
import type { GenerationBackend } from "./backend.ts";
import type { Registry } from "../../model/metrics/mod.ts";
import { startHttpServer } from "./http_server.ts";
import { servedTokenEmbeddings } from "./neighbours.ts";
import type { ServedModel } from "./model_source.ts";
import { Scheduler } from "./scheduler.ts";
import { ServeMetrics } from "./serve_metrics.ts";
import { startServer } from "./server.ts";

/** How {@linkcode serveModel} serves. */
export interface ServeOptions {
  host: string;
  /** gRPC port (0 picks a free one). */
  port: number;
  tls?: TlsFiles;
  /** Serve the HTTP API too, on this port (0 picks a free one). */
  httpPort?: number;
  /** The HTTP API's interface (default: `host`). */
  httpHost?: string;
  /** Origins whose browser pages may call the HTTP API (`*` for any); none by default. */
  allowedOrigins?: readonly string[];
  /** Sequences decoded together (default 8). */
  maxBatch?: number;
  /** Requests waiting for a slot (default 64). */
  maxQueue?: number;
  threads?: number;
  device?: string;
  /** Required from every client when set. */
  apiKey?: string;
  /** The model's id in the HTTP API (default: the model's name). */
  modelId?: string;
  log?: Logger;
}

/** A running server: its ports, and how to stop it. */
export interface ServedServer {
  port: number;
  httpPort?: number;
  httpHost?: string;
  close(): void;
}

/**
 * The scheduler, metrics and tables every transport of a server shares, over an engine already
 * compiled for `model`. `registry` holds the metrics (default: the process-wide one, with
 * prom-client's process series).
 */
export function generationBackend(
  model: ServedModel,
  engine: InferenceEngine,
  o: Pick<ServeOptions, "maxQueue" | "device" | "apiKey" | "modelId" | "log"> & {
    registry?: Registry;
  } = {},
): GenerationBackend {
  const metrics = new ServeMetrics(o.registry);
  const scheduler = new Scheduler(engine, model.codec, {
    maxQueue: o.maxQueue ?? 64,
    logger: o.log ?? silentLogger,
    observer: metrics,
  });
  metrics.watch(scheduler);
  return {
    engine,
    scheduler,
    codec: model.codec,
    metrics,
    name: model.name,
    modelId: o.modelId ?? model.name,
    device: o.device ?? "cpu",
    apiKey: o.apiKey,
    embeddings: servedTokenEmbeddings(model.weights, model.codec),
  };
}

/** Compiles `model` for its device and serves it until `close()`. */
export async function serveModel(model: ServedModel, o: ServeOptions): Promise<ServedServer> {
  const device = o.device ?? "cpu";
  const engine = await InferenceEngine.create(model.cfg, model.weights, {
    maxBatch: o.maxBatch ?? 8,
    device,
    threads: o.threads,
  });
  const log = o.log ?? silentLogger;
  const backend = generationBackend(model, engine, { ...o, device, log });
  const server = await startServer(backend, { host: o.host, port: o.port, tls: o.tls });
  const httpHost = o.httpHost ?? o.host;
  const http = o.httpPort === undefined ? undefined : startHttpServer(backend, {
    host: httpHost,
    port: o.httpPort,
    allowedOrigins: o.allowedOrigins,
  });
  log.info("serving", { model: model.name, ...model.cfg, maxBatch: engine.maxBatch });
  return {
    port: server.port,
    httpPort: http?.port,
    httpHost: http ? httpHost : undefined,
    close: () => {
      server.close();
      void http?.close();
    },
  };
}
