/** Starting an HTTP server on a port a person chose, with the error they need when it is taken. */
import { InputError } from "../errors.ts";

/** Where to listen, and the flag that chose the port (named when the port is in use). */
export interface ListenFlags {
  host: string;
  /** 0 picks a free port. */
  port: number;
  flag: string;
}

/** `Deno.serve` on `host:port`; a port in use is an InputError naming `flag`. */
export function serveHttp(
  listen: ListenFlags,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({ hostname: listen.host, port: listen.port, onListen() {} }, handler);
  } catch (err) {
    if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    throw new InputError(
      listen.flag,
      `${listen.host}:${listen.port} is already in use: pick another port (0 takes a free one)`,
      { cause: err },
    );
  }
}
