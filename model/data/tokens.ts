/** Token arrays as shards hold them: one element type per manifest `dtype`. */
import type { Manifest } from "./manifest.ts";

/** The element type of a shard's tokens. */
export type ShardDtype = Manifest["dtype"];

/** Token ids in a shard's element type. */
export type ShardTokens = Uint16Array | Uint32Array;

/** The tokens a shard's bytes hold (copied, so the result owns an aligned buffer). */
export function tokensFromBytes(bytes: Uint8Array, dtype: ShardDtype): ShardTokens {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return dtype === "uint16" ? new Uint16Array(buf) : new Uint32Array(buf);
}

/**
 * One array of `dtype` holding `parts` end to end.
 *
 * @example
 * ```ts
 * concatTokens([[1, 2], Uint16Array.of(3)], "uint16"); // Uint16Array [1, 2, 3]
 * ```
 */
export function concatTokens(parts: readonly ArrayLike<number>[], dtype: ShardDtype): ShardTokens {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = dtype === "uint16" ? new Uint16Array(total) : new Uint32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
