import { atomicWriteFile } from "../model/atomic_write.ts";
import type { ManifestShard } from "../model/data/mod.ts";
import { sha256Hex } from "../model/sha256.ts";

/**
 * Writes one split's tokens as fixed-size little-endian shards `<split>_00000.bin`… (the last one
 * may be shorter), each atomically, and returns their manifest entries.
 */
export async function writeShards(
  dir: string,
  split: "train" | "val",
  tokens: Uint16Array | Uint32Array,
  shardTokens: number,
): Promise<ManifestShard[]> {
  const shards: ManifestShard[] = [];
  for (let start = 0, i = 0; start < tokens.length; start += shardTokens, i++) {
    const part = tokens.subarray(start, Math.min(tokens.length, start + shardTokens));
    const bytes = toLittleEndianBytes(part);
    const file = `${split}_${String(i).padStart(5, "0")}.bin`;
    await atomicWriteFile(`${dir}/${file}`, bytes);
    shards.push({ file, split, tokens: part.length, sha256: await sha256Hex(bytes) });
  }
  return shards;
}

/** Removes shard files a previous run left that this run did not write. */
export async function removeStaleShards(dir: string, keep: ReadonlySet<string>): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (/^(train|val)_\d{5}\.bin$/.test(e.name) && !keep.has(e.name)) {
      await Deno.remove(`${dir}/${e.name}`);
    }
  }
}

function toLittleEndianBytes(a: Uint16Array | Uint32Array): Uint8Array {
  const width = a.BYTES_PER_ELEMENT;
  const out = new Uint8Array(a.length * width);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (width === 2) dv.setUint16(i * 2, a[i], true);
    else dv.setUint32(i * 4, a[i], true);
  }
  return out;
}
