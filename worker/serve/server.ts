/**
 * The inference server: the Generation service, health and reflection on one grpc-js server.
 *
 * @example
 * ```ts
 * const server = await startServer(backend, { host: "127.0.0.1", port: 0 });
 * console.log(`listening on 127.0.0.1:${server.port}`);
 * ```
 */
import * as grpc from "@grpc/grpc-js";
import {
  bindServer,
  generationRoot,
  generationService,
  healthService,
  type TlsFiles,
} from "../../proto/mod.ts";
import type { GenerationBackend } from "./backend.ts";
import { generationHandlers } from "./handlers.ts";
import { healthHandlers } from "./health.ts";
import { addReflection } from "./reflection.ts";

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Serve TLS with this certificate chain and key (PEM files). */
  tls?: TlsFiles;
}

/** A running server. */
export interface RunningServer {
  readonly port: number;
  readonly server: grpc.Server;
  /** Stops accepting calls and ends the ones in flight. */
  close(): void;
}

/** Starts serving `backend`; resolves once the port is bound. */
export async function startServer(
  backend: GenerationBackend,
  listen: ListenOptions,
): Promise<RunningServer> {
  const server = new grpc.Server({ "grpc.max_send_message_length": 64 * 1024 * 1024 });
  server.addService(
    generationService,
    generationHandlers(backend),
  );
  server.addService(healthService, healthHandlers());
  addReflection(server, generationRoot);
  const port = await bindServer(server, listen.host, listen.port, listen.tls);
  return { port, server, close: () => server.forceShutdown() };
}
