/**
 * Binding a grpc-js server, with the one error a person hits most (the port is taken) said plainly.
 */
import * as grpc from "@grpc/grpc-js";
import { InputError } from "../model/errors.ts";
import { serverCredentials, type TlsFiles } from "./credentials.ts";

/**
 * Binds `server` to `host:port` (port 0 picks a free one) with TLS when `tls` is given; resolves
 * with the bound port once it accepts connections. A port in use is an {@linkcode InputError}
 * naming `--port`.
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
): Promise<number> {
  const problem = runtimeProblem(Deno.version.deno);
  if (problem) console.warn(`warning: ${problem}`);
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, serverCredentials(tls), (err, bound) => {
      if (!err) return resolve(bound);
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
