/**
 * Binding a grpc-js server, with the one error a person hits most (the port is taken) said plainly,
 * and limits on what the network may hold of it: a handshake timeout and a cap on connections.
 */
import * as grpc from "@grpc/grpc-js";
import type { Server as NetServer, Socket } from "node:net";
import type { ServerHttp2Session } from "node:http2";
import { InputError } from "../model/errors.ts";
import { serverCredentials, type TlsFiles } from "./credentials.ts";
import { type ConnectionLimits, connectionLimits } from "./limits.ts";

/**
 * Binds `server` to `host:port` (port 0 picks a free one) with TLS when `tls` is given; resolves
 * with the bound port once it accepts connections. A port in use is an {@linkcode InputError}
 * naming `--port`. A connection that has not finished its handshakes within
 * `limits.handshakeTimeoutMs` is closed, and connections beyond `limits.maxConnections` are refused.
 *
 * @example
 * ```ts
 * const port = await bindServer(new grpc.Server(), "127.0.0.1", 0);
 * ```
 */
export function bindServer(
  server: grpc.Server,
  host: string,
  port: number,
  tls?: TlsFiles,
  limits: ConnectionLimits = connectionLimits,
): Promise<number> {
  const problem = runtimeProblem(Deno.version.deno);
  if (problem) console.warn(`warning: ${problem}`);
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, serverCredentials(tls), (err, bound) => {
      if (!err) {
        limitConnections(server, limits);
        return resolve(bound);
      }
      if (/EADDRINUSE/.test(err.message)) {
        return reject(
          new InputError(
            "--port",
            `${host}:${port} is already in use: stop what listens there, or pick another port ` +
              `(--port 0 takes a free one)`,
            { cause: err },
          ),
        );
      }
      reject(err);
    })
  );
}

/**
 * Applies `limits` to every listener of `server`. grpc-js exposes neither its listeners nor a
 * handshake timeout (it turns Node's socket timeout off), so this reaches its private listener map,
 * of the pinned 1.14.7; a grpc-js without one fails here, at bind, not silently. A connection's
 * handshakes are done when its HTTP/2 session has the client's SETTINGS: after TLS, if any, and
 * the connection preface. The listener's socket and the session's are told apart by remote port.
 */
function limitConnections(server: grpc.Server, limits: ConnectionLimits): void {
  const listeners = (server as unknown as { http2Servers?: Map<NetServer, unknown> }).http2Servers;
  if (!(listeners instanceof Map)) {
    throw new Error(
      "This grpc-js keeps no http2Servers map: proto/bind.ts cannot limit connections",
    );
  }
  const key = (s: Socket) => `${s.remoteAddress}:${s.remotePort}`;
  for (const listener of listeners.keys()) {
    listener.maxConnections = limits.maxConnections;
    const handshaking = new Map<string, () => void>();
    listener.on("connection", (socket: Socket) => {
      // Under Deno the HTTP/2 session owns the socket's handle: destroy() marks the socket closed
      // and leaves the connection open. A reset closes it.
      const timer = setTimeout(() => socket.resetAndDestroy(), limits.handshakeTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        handshaking.delete(key(socket));
      };
      handshaking.set(key(socket), done);
      socket.once("close", done);
    });
    listener.on("session", (session: ServerHttp2Session) => {
      session.once("remoteSettings", () => handshaking.get(key(session.socket as Socket))?.());
    });
  }
}

/**
 * Deno releases whose gRPC servers abort in nghttp2 when a client closes its connection. Closing
 * an HTTP/2 session gracefully sends GOAWAY, and on these releases the process that receives it
 * can abort too; so our long-lived servers and channels are never closed gracefully: a process
 * that is done exits, which closes its sockets. 2.9.3 is pinned (.ci/run, README).
 */
const ABORTING_DENO = ["2.9.4", "2.9.5", "2.9.6"];

/** Why serving on Deno `version` is unsafe, or undefined when it is not known to be. */
export function runtimeProblem(version: string): string | undefined {
  if (!ABORTING_DENO.includes(version)) return undefined;
  return `Deno ${version} aborts a gRPC server process inside nghttp2 when a client closes a ` +
    `connection that carried a few dozen calls; install the pinned 2.9.3 ` +
    `(npm install -g deno@2.9.3)`;
}
