/**
 * Transport security shared by every server and client of a job: optional TLS (mutual when a CA
 * is given to the server) and the shared job token carried in call metadata.
 *
 * @example
 * ```ts
 * const tls = TlsFiles.parse({ certPath: "srv.pem", keyPath: "srv.key" });
 * server.bindAsync("0.0.0.0:0", serverCredentials(tls), cb);
 * const client = new grpc.Client(addr, channelCredentials({ caPath: "ca.pem" }));
 * client.makeUnaryRequest(path, ser, de, req, tokenMetadata("s3cret"), cb);
 * ```
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { z } from "zod";
import { InputError } from "../model/errors.ts";
import { tokensEqual } from "../model/secrets.ts";
import { UnauthenticatedError } from "./grpc_error.ts";
import { channelOptions } from "./limits.ts";

/** PEM file paths. A server needs cert and key; a client needs CA (and cert and key for mTLS). */
export const TlsFiles = z.object({
  /** This side's certificate chain (PEM). */
  certPath: z.string().min(1).optional(),
  /** This side's private key (PEM). */
  keyPath: z.string().min(1).optional(),
  /** CA that signs the other side: a server given one requires client certificates. */
  caPath: z.string().min(1).optional(),
  /**
   * Client side: the name the server's certificate must carry, when it differs from the address
   * dialled. Needed when dialling an IP under Deno, whose TLS refuses an IP as server name.
   */
  serverName: z.string().min(1).optional(),
}).strict().refine((t) => (t.certPath === undefined) === (t.keyPath === undefined), {
  message: "a certificate and its key go together",
  path: ["keyPath"],
});

/** The command-line flag of each {@linkcode TlsFiles} field, for errors that name the flag. */
export const tlsFlags = {
  certPath: "--tls-cert",
  keyPath: "--tls-key",
  caPath: "--tls-ca",
  serverName: "--tls-server-name",
};
export type TlsFiles = z.infer<typeof TlsFiles>;

/** Server credentials: insecure without `tls`, TLS with it, mutual TLS when `tls.caPath` is set. */
export function serverCredentials(tls?: TlsFiles): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  if (!tls.certPath || !tls.keyPath) {
    throw new InputError("--tls-cert/--tls-key", "A TLS server needs both a certificate and a key");
  }
  const cert = readPem(tls.certPath, "--tls-cert");
  // Under Deno 2.9 a grpc-js TLS server given no CA answers in plaintext (clients report "wrong
  // version number"); with one it speaks TLS. Without --tls-ca, the server's own chain fills that
  // slot; it verifies nothing, because client certificates are then not requested.
  const ca = tls.caPath ? readPem(tls.caPath, "--tls-ca") : cert;
  return grpc.ServerCredentials.createSsl(
    ca,
    [{ cert_chain: cert, private_key: readPem(tls.keyPath, "--tls-key") }],
    tls.caPath !== undefined,
  );
}

/** Channel credentials: insecure without `tls`; TLS trusting `caPath` (or system roots) otherwise. */
export function channelCredentials(tls?: TlsFiles): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    tls.caPath ? readPem(tls.caPath, "--tls-ca") : null,
    tls.keyPath ? readPem(tls.keyPath, "--tls-key") : null,
    tls.certPath ? readPem(tls.certPath, "--tls-cert") : null,
  );
}

/** Channel options for a client: the job's limits, plus the server name override of `tls`. */
export function clientChannelOptions(tls?: TlsFiles): grpc.ChannelOptions {
  if (!tls?.serverName) return { ...channelOptions };
  return { ...channelOptions, "grpc.ssl_target_name_override": tls.serverName };
}

const AUTH_KEY = "authorization";

/** Call metadata carrying the job token as `authorization: Bearer <token>`. */
export function tokenMetadata(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(AUTH_KEY, `Bearer ${token}`);
  return md;
}

/** Throws {@linkcode UnauthenticatedError} unless `metadata` carries exactly `token`. */
export function checkToken(metadata: grpc.Metadata, token: string): void {
  const values = metadata.get(AUTH_KEY);
  if (values.length === 0) {
    throw new UnauthenticatedError("Missing job token: no authorization metadata");
  }
  const presented = String(values[0]).replace(/^Bearer /, "");
  if (!tokensEqual(presented, token)) throw new UnauthenticatedError("Wrong job token");
}

function readPem(path: string, flag: string): Buffer {
  try {
    return Buffer.from(Deno.readFileSync(path));
  } catch (err) {
    throw new InputError(flag, `Cannot read "${path}": check the path and permissions`, {
      cause: err,
    });
  }
}
