/**
 * safetensors files on disk: atomic writes, and reads whose errors name the path.
 *
 * @example
 * ```ts
 * await writeSafetensors("w.safetensors", new Map([["w", { dtype: "F32", shape: [1], data }]]));
 * const { tensors } = await readSafetensors("w.safetensors");
 * ```
 */
import { atomicWriteFile } from "../atomic_write.ts";
import { InputError } from "../errors.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import type { SafetensorsFile, TensorToWrite } from "./safetensors.ts";

/** Encodes and writes a safetensors file atomically; returns the bytes written. */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  const bytes = encodeSafetensors(tensors, metadata);
  await atomicWriteFile(path, bytes);
  return bytes;
}

/** Reads and validates a safetensors file; errors name `path`. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new InputError(path, `Cannot read safetensors file: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return decodeSafetensors(bytes, path);
}
