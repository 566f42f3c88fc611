/**
 * The peer gRPC server each worker hosts: it takes the all-reduce chunks its left neighbour streams
 * in, checks the job token, validates every message and files chunks in the worker's
 * {@linkcode ChunkMailbox}. Thin by design: validate, put, map errors to statuses.
 *
 * @example
 * ```ts
 * const mailbox = new ChunkMailbox("job-1");
 * const server = await startPeerServer({ host: "127.0.0.1", port: 0, token: "t", mailbox });
 * console.log(`listening on ${server.address}`);
 * ```
 */
import * as grpc from "@grpc/grpc-js";
import {
  AllReduceChunk,
  bindServer,
  channelOptions,
  checkToken,
  parseMessage,
  peerService,
  type TlsFiles,
  toGrpcError,
  UnavailableError,
} from "../../../proto/mod.ts";
import { type Logger, silentLogger } from "../../../model/log.ts";
import type { ChunkMailbox, CollectiveId } from "../chunk_mailbox.ts";

/** Where and how the peer server listens. */
export interface PeerServerOptions {
  /** Interface to bind, e.g. `127.0.0.1` or `0.0.0.0`. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The job token every call must present. */
  token: string;
  mailbox: ChunkMailbox;
  /** Serve TLS with this certificate and key; require client certificates when `caPath` is set. */
  tls?: TlsFiles;
  logger?: Logger;
}

/** A running peer server. */
export interface PeerServer {
  /** `host:port` as bound (the real port when 0 was asked for). */
  readonly address: string;
  readonly port: number;
  /** Stops accepting calls and ends the ones in flight. */
  close(): Promise<void>;
}

/** Starts the peer server; resolves once it accepts connections. */
export async function startPeerServer(options: PeerServerOptions): Promise<PeerServer> {
  const logger = options.logger ?? silentLogger;
  const server = new grpc.Server(channelOptions);
  server.addService(peerService, {
    SendChunks: sendChunksHandler(options.mailbox, options.token, logger),
  });
  const port = await bindServer(server, options.host, options.port, options.tls);
  return {
    address: `${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Calls still in flight after a grace period are cut rather than waited for.
        setTimeout(() => server.forceShutdown(), 1000).unref?.();
      }),
  };
}

/** `SendChunks`: every chunk of one collective from the left neighbour, in one stream. */
function sendChunksHandler(mailbox: ChunkMailbox, token: string, logger: Logger) {
  return (
    call: grpc.ServerReadableStream<unknown, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ) => {
    try {
      checkToken(call.metadata, token);
    } catch (err) {
      logger.warn("refused peer call", { peer: call.getPeer(), error: String(err) });
      return callback(toGrpcError(err));
    }
    let received = 0;
    let answered = false;
    let collective: CollectiveId | undefined;
    const answer = (err?: unknown) => {
      if (answered) return;
      answered = true;
      call.removeAllListeners("data");
      if (err === undefined) return callback(null, { chunks_received: received });
      logger.warn("rejected chunk stream", { peer: call.getPeer(), error: String(err) });
      return callback(toGrpcError(err));
    };
    call.on("data", (message: unknown) => {
      try {
        const chunk = parseMessage(AllReduceChunk, message, "AllReduceChunk");
        collective = { ringVersion: chunk.ring_version, step: chunk.step, bucket: chunk.bucket };
        mailbox.put(chunk);
        received++;
      } catch (err) {
        answer(err);
      }
    });
    call.on("end", () => answer());
    call.on("cancelled", () => {
      // The sender gave up (it aborted or hit a deadline): whoever waits on its chunks learns
      // now instead of at their own deadline. Transport events are a shortcut, never relied on.
      if (collective && !answered) {
        mailbox.fail(
          collective,
          new UnavailableError(
            `Left neighbour cancelled its chunk stream for step ${collective.step} after ${received} chunks`,
          ),
        );
      }
      answered = true;
    });
    call.on("error", (err) => answer(err));
  };
}
