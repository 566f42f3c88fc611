/** Socket helpers both ends of the TCP data plane use. */

/** Longest wait for a connection, a hello, or the answer to one. */
export const HELLO_TIMEOUT_MS = 5000;

/** Writes all of `bytes` (a socket write may take only part). */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** Closes a socket or listener that may be closed already. */
export function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}

/** "host:port" or "[v6]:port" as [hostname, port]. */
export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i).replace(/^\[|\]$/g, ""), Number(address.slice(i + 1))];
}
